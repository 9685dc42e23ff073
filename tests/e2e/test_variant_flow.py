"""A generated job's parameters, and a variant of it, through ``forge serve`` on the
embedded defaults (template backend, SQLite, local files): the variant is made with no
inference run, its events reach the chat's socket, and its STL, downloaded and measured
with trimesh, has the sizes asked for."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import trimesh

from tests.e2e.conftest import forge_server
from tests.e2e.test_chat_socket_flow import socket_url, subscribed, until
from tests.e2e.test_prompt_to_stl import run
from tests.e2e.test_runpod_flow import sign_in

pytestmark = pytest.mark.e2e
PLATE = {"model_type": "plate", "dimensions_mm": {"length": 120, "width": 80, "thickness": 4}}


def stl_extents(api: httpx.Client, job_id: str) -> list[float]:
    assets = api.get("/assets", params={"job_id": job_id}).json()
    model = next(a for a in assets if a["uri"].endswith("/model.stl"))
    download = api.get(f"/assets/{model['id']}/content")
    assert download.status_code == 200
    mesh = trimesh.load(io.BytesIO(download.content), file_type="stl")
    assert mesh.is_watertight
    return [round(float(v), 2) for v in mesh.extents]


def test_list_parameters_post_a_variant_and_measure_its_stl(tmp_path: Path) -> None:
    with (
        forge_server(tmp_path) as base,
        httpx.Client(base_url=f"{base}/api/v1", timeout=60) as api,
    ):
        chat_id = sign_in(api)
        with subscribed(socket_url(api, chat_id)) as ws:
            body = {"action": "generate_scad", "content": "a plate", "requirements_json": PLATE}
            run(api, chat_id, body)
            job_id = until(ws, "job.completed")[-1]["job_id"]
            listed = api.get(f"/jobs/{job_id}/parameters")
            assert listed.status_code == 200, listed.text
            found: dict[str, Any] = {p["name"]: p for p in listed.json()}
            made = api.post(f"/jobs/{job_id}/variants",
                            json={"parameters": {"length": 150, "thickness": 6}})  # fmt: skip
            assert made.status_code == 201, made.text
            frames = until(ws, "job.completed")
        variant = api.get(f"/jobs/{made.json()['id']}").json()
        original_size, variant_size = stl_extents(api, job_id), stl_extents(api, variant["id"])
        history = api.get("/jobs", params={"variant_of": job_id}).json()
        refused = api.post(f"/jobs/{job_id}/variants", json={"parameters": {"length": 5}})

    length = found["length"]
    assert (length["value"], length["min"], length["max"], length["group"]) == (
        120,
        10,
        1000,
        "Plate",
    )
    assert length["derived_range"] is False and length["description"] == "plate length"
    assert [f["type"] for f in frames if f["type"].startswith("runpod.")] == []  # no inference
    assert frames[-1]["job_id"] == variant["id"]
    assert variant["status"] == "succeeded" and variant["variant_of"] == job_id
    assert original_size == [120, 80, 4]
    assert variant_size == [150, 80, 6]
    assert [j["id"] for j in history] == [variant["id"]]
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("parameters.length: must be between 10 and 1000")
