"""The repair loop through ``forge serve`` on the fake RunPod: a worker that answers
broken SCAD, and fixes it when the request carries ``repair``, ends in a succeeded job
whose chat saw ``job.repair`` and a message about it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_chat_socket_flow import socket_url, subscribed, until
from tests.e2e.test_runpod_flow import serve, sign_in
from tests.fakes.runpod import FakeRunPod

pytestmark = pytest.mark.e2e
BROKEN, FIXED = "side = 10;\ncube(side;\n", "side = 10;\ncube(side);\n"


def worker(job: dict[str, Any]) -> dict[str, Any]:
    return {"scad_code": FIXED if "repair" in job else BROKEN}


def test_broken_scad_from_a_run_is_repaired(tmp_path: Path) -> None:
    with (
        FakeRunPod(worker=worker).running() as fake,
        serve(tmp_path, fake, repair_attempts="1") as (base, _),
        httpx.Client(base_url=base, timeout=30) as api,
    ):
        chat_id = sign_in(api)
        with subscribed(socket_url(api, chat_id)) as ws:
            body = {"action": "generate_scad", "content": "a cube"}
            assert api.post(f"/chats/{chat_id}/runpod", json=body).status_code == 202
            frames = until(ws, "job.completed")
        job = api.get(f"/jobs/{frames[-1]['job_id']}").json()
        messages = api.get("/messages", params={"chat_id": chat_id}).json()

    [repair] = [f for f in frames if f["type"] == "job.repair"]
    assert (repair["attempt"], repair["stage"]) == (1, "render")
    assert repair["reason"].startswith("scad: line 2: ")
    assert job["status"] == "succeeded" and job["spec"]["scad_code"] == FIXED
    assert [a["outcome"] for a in job["repair_attempts"]] == ["repaired"]
    assert any("attempt 1 of 1" in m["content"] for m in messages)
    repaired = [j.input for j in fake.jobs.values() if "repair" in j.input]
    assert len(repaired) == 1 and repaired[0]["repair"]["scad"] == BROKEN
