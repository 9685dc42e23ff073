"""The README's curl flow against a real ``forge serve`` on its embedded defaults."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import forge_server

pytestmark = pytest.mark.e2e


def seed_flow(api: httpx.Client) -> dict[str, str]:
    assert api.get("/health").json()["status"] == "ok"
    registered = api.post(
        "/auth/register",
        json={"email": "demo@example.com", "password": "secret", "display_name": "Demo"},
    )
    assert registered.status_code == 201
    assert registered.json()["message"] == "Registration successful"
    login = api.post("/auth/login", json={"email": "demo@example.com", "password": "secret"})
    assert login.status_code == 200 and login.json()["token_type"] == "bearer"
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    assert api.get("/auth/me").json()["email"] == "demo@example.com"

    session = api.post(
        "/sessions",
        json={"name": "Design Session 1", "status": "active", "metadata_json": {"source": "web"}},
    ).json()
    chat = api.post("/chats", json={"session_id": session["id"], "title": "First chat"}).json()
    assert api.get("/chats", params={"session_id": session["id"]}).json() == [chat]
    message = api.post(
        "/messages", json={"chat_id": chat["id"], "role": "user", "content": "Hello", "tokens": 5}
    )
    assert message.status_code == 201 and message.json()["tokens"] == 5
    job = api.post(
        "/jobs", json={"session_id": session["id"], "prompt": "a red chair", "output_format": "glb"}
    ).json()
    assert api.post(f"/jobs/{job['id']}/start").json()["status"] == "running"
    done = api.post(f"/jobs/{job['id']}/complete", params={"success": "true"}).json()
    assert done["status"] == "succeeded" and done["completed_at"]
    asset = api.post(
        "/assets", json={"job_id": job["id"], "asset_type": "glb", "uri": "s3://bucket/file.glb"}
    ).json()
    meta = api.post(
        "/asset-meta",
        json={
            "asset_id": asset["id"],
            "part_name": "propeller",
            "component_of": asset["id"],
            "position_json": {"x": 0, "y": 0, "z": 0},
            "image_paths_json": [{"face_direction": [0, 0, 0, 1], "image_src": ""}],
            "material_json": {"type": "plastic", "thickness": "10mm"},
            "is_composite_of": [asset["id"]],
            "used_for_json": ["build air turbulence", "engine coupling"],
        },
    )
    assert meta.status_code == 201, meta.text
    return {"session": session["id"], "meta": meta.json()["id"]}


def test_seed_flow_survives_a_restart(tmp_path: Path) -> None:
    with forge_server(tmp_path) as base, httpx.Client(base_url=f"{base}/api/v1") as api:
        ids = seed_flow(api)
        token = api.headers["Authorization"]

    assert (tmp_path / "forge.db").exists()
    secret = tmp_path / "forge-data" / "jwt_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600

    with forge_server(tmp_path) as base, httpx.Client(base_url=f"{base}/api/v1") as api:
        api.headers["Authorization"] = token  # same secret, same login: still valid
        assert api.get(f"/sessions/{ids['session']}").json()["name"] == "Design Session 1"
        assert api.get(f"/asset-meta/{ids['meta']}").json()["part_name"] == "propeller"
        assert api.get("/auth/logout").status_code == 200
        assert api.get("/sessions").status_code == 401
        assert api.delete(f"/sessions/{ids['session']}").status_code == 401


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    import subprocess

    from tests.e2e.conftest import forge_command

    result = subprocess.run(
        [*forge_command(), "serve"],
        cwd=tmp_path,
        env={"FORGE_PORT": "eighty", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "FORGE_PORT" in result.stderr
