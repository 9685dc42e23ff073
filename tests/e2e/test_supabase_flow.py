"""``forge serve`` on Supabase Auth: SUPABASE_URL points it at the fake GoTrue, and the
seed's auth flow, then sessions and chats, run with the Supabase token."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import forge_server
from tests.fakes.gotrue import FakeGoTrue

pytestmark = pytest.mark.e2e


def test_seed_flow_on_supabase(tmp_path: Path, gotrue: FakeGoTrue) -> None:
    env = {"SUPABASE_URL": gotrue.url, "SUPABASE_ANON_KEY": gotrue.anon_key}
    with forge_server(tmp_path, env) as base, httpx.Client(base_url=f"{base}/api/v1") as api:
        registered = api.post(
            "/auth/register",
            json={"email": "demo@example.com", "password": "secret", "display_name": "Demo"},
        )
        assert registered.status_code == 201, registered.text
        user_id = gotrue.users["demo@example.com"].id
        assert registered.json() == {
            "message": "Registration successful",
            "user_id": user_id,
            "email": "demo@example.com",
        }
        login = api.post("/auth/login", json={"email": "demo@example.com", "password": "secret"})
        assert login.status_code == 200, login.text
        tokens = login.json()
        assert tokens["token_type"] == "bearer" and tokens["user_id"] == user_id
        api.headers["Authorization"] = f"Bearer {tokens['access_token']}"

        me = api.get("/auth/me").json()
        assert (me["user_id"], me["email"], me["display_name"]) == (
            user_id,
            "demo@example.com",
            "Demo",
        )
        session = api.post("/sessions", json={"name": "Design Session 1", "status": "active"})
        assert session.status_code == 201 and session.json()["user_id"] == user_id
        chat = api.post("/chats", json={"session_id": session.json()["id"], "title": "First"})
        assert chat.status_code == 201
        assert api.get("/chats", params={"session_id": session.json()["id"]}).json() == [
            chat.json()
        ]
        assert api.get("/sessions").json() == [session.json()]

        assert api.get("/auth/logout").status_code == 200
        assert api.get("/sessions").status_code == 401
        assert api.get("/auth/me").status_code == 401
        refused = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refused.status_code == 401
    assert gotrue.count("/.well-known/jwks.json") == 1
    assert gotrue.count("/user") == 0
    logged = "".join(log.read_text() for log in tmp_path.glob("serve-*.log"))
    assert "Application startup complete" in logged
    for secret in (gotrue.anon_key, tokens["access_token"], tokens["refresh_token"], "secret"):
        assert secret not in logged


def test_serve_refuses_supabase_without_its_url(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError) as caught,
        forge_server(tmp_path, {"FORGE_AUTH_BACKEND": "supabase"}),
    ):
        pass
    assert "invalid setting SUPABASE_URL: must be set" in str(caught.value)
