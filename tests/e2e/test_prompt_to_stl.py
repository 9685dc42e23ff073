"""A prompt all the way to a printable STL, on the embedded defaults (template backend,
SQLite, local files, the Manifold renderer, and no ``openscad`` on PATH): ``forge serve``
as a process, a real WebSocket client on the chat.

process_requirements then generate_scad (both ``sync``) end in a pipeline job that
succeeds; its STL, downloaded through the API, loads in trimesh as a watertight model of
the size QA measured (160 mm motor-to-motor, within QA's tolerance); the socket saw the
run's and the job's events in order."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import trimesh

from tests.e2e.conftest import forge_server
from tests.e2e.test_chat_socket_flow import socket_url, subscribed, until
from tests.e2e.test_runpod_flow import sign_in

pytestmark = pytest.mark.e2e
ASK = "A 160 mm quadcopter frame with 3 mm thick arms, motor-to-motor 160 mm"


def run(api: httpx.Client, chat_id: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post(f"/chats/{chat_id}/runpod", json={**body, "sync": True})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed", answer.text
    return dict(answer.json())


def test_a_prompt_becomes_a_downloaded_watertight_stl(tmp_path: Path) -> None:
    """With no ``openscad`` on PATH: the embedded renderer is pip's alone."""
    no_openscad = tmp_path / "bin"
    no_openscad.mkdir()
    assert shutil.which("openscad", path=str(no_openscad)) is None
    with (
        forge_server(tmp_path, {"PATH": str(no_openscad)}) as base,
        httpx.Client(base_url=f"{base}/api/v1", timeout=60) as api,
    ):
        assert api.get("/health").json()["renderer"]["engine"] == "manifold"
        chat_id = sign_in(api)
        with subscribed(socket_url(api, chat_id)) as ws:
            asked = run(api, chat_id, {"action": "process_requirements", "content": ASK})
            requirements = asked["message"]["metadata_json"]["requirements_json"]
            scad = run(
                api,
                chat_id,
                {
                    "action": "generate_scad",
                    "content": "Generate SCAD",
                    "requirements_json": requirements,
                },
            )
            frames = until(ws, "runpod.completed") + until(ws, "runpod.completed")
            frames += until(ws, "job.completed")
        job_id = frames[-1]["job_id"]
        job = api.get(f"/jobs/{job_id}").json()
        assets = api.get("/assets", params={"job_id": job_id}).json()
        model = next(a for a in assets if a["uri"].endswith("/model.stl"))
        download = api.get(f"/assets/{model['id']}/content")
    assert scad["output"]["scad_code"].startswith("//")
    job_frames = [f for f in frames if f["type"].startswith("job.")]
    assert [(f["type"], f.get("stage")) for f in job_frames] == [
        ("job.started", None),
        ("job.progress", "render"),
        ("job.progress", "qa"),
        ("job.progress", "export"),
        ("job.progress", "store"),
        ("job.completed", None),
    ]
    assert [f["seq"] for f in frames] == sorted(f["seq"] for f in frames)
    assert job["status"] == "succeeded" and job["error"] is None
    assert job["qa"]["passed"] is True and job["qa"]["warnings"] == []
    checks = {c["name"]: c for c in job["qa"]["checks"]}
    assert checks["dimension:motor_to_motor"]["ok"] is True
    assert {a["asset_type"] for a in assets} >= {"scad", "stl", "glb", "3mf", "png"}
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("model/stl")
    mesh = trimesh.load(io.BytesIO(download.content), file_type="stl")
    assert mesh.is_watertight and mesh.volume > 0
    size = [round(float(v), 1) for v in mesh.extents]
    assert size == [round(v, 1) for v in job["qa"]["size_mm"]]
