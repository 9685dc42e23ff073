"""A real ``forge serve``: JSON log lines carry the request id its response echoes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.conftest import forge_server


def test_access_lines_are_json_with_the_request_id(tmp_path: Path) -> None:
    with forge_server(tmp_path, {"FORGE_DATABASE_URL": "memory://"}) as base:
        response = httpx.get(f"{base}/api/v1/sessions", headers={"X-Request-ID": "e2e-1"})
        assert response.status_code == 401 and response.headers["x-request-id"] == "e2e-1"
        metrics = httpx.get(f"{base}/metrics")
        assert 'route="/api/v1/sessions",status="401"' in metrics.text
    [log] = tmp_path.glob("serve-*.log")
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    access = [x for x in lines if x["logger"] == "forge.access" and x["request_id"] == "e2e-1"]
    assert len(access) == 1 and "/api/v1/sessions" in access[0]["message"]
    assert "401" in access[0]["message"]
    startup = [x for x in lines if "startup complete" in x["message"]]
    assert startup and startup[0]["request_id"] == "-"
