"""Choosing Supabase by settings, refusing to start without what it needs, and the
container's Supabase pieces (the wrappers, the pooled client closed at shutdown)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge_adapters.supabase import SupabaseAuthProvider, SupabaseClient
from forge_http import build_container
from forge_http.container import ServiceSet, shutdown
from forge_http.settings import SettingsError, load_settings
from tests.fakes.gotrue import FakeGoTrue
from tests.http.conftest import make_settings

pytestmark = pytest.mark.anyio


def settings_error(**values: object) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **values)
    return str(caught.value)


def test_supabase_needs_its_url_and_a_key() -> None:
    assert settings_error(auth_backend="supabase") == (
        "invalid setting SUPABASE_URL: must be set when FORGE_AUTH_BACKEND=supabase"
    )
    assert settings_error(supabase_url="https://p.supabase.co").startswith(
        "invalid setting SUPABASE_ANON_KEY: must be set"
    )
    assert settings_error(supabase_url="p.supabase.co", supabase_anon_key="k") == (
        "invalid setting SUPABASE_URL: must be an http:// or https:// URL"
    )
    assert settings_error(auth_backend="ldap").startswith("invalid setting FORGE_AUTH_BACKEND:")


def test_supabase_url_selects_supabase_unless_local_is_asked_for() -> None:
    url = "https://p.supabase.co/"
    chosen = load_settings(_env_file=None, supabase_url=url, supabase_service_role_key="s")
    assert (chosen.auth_backend, chosen.supabase_url) == ("supabase", "https://p.supabase.co")
    assert chosen.supabase_api_key == "s"  # the fallback when the anon key is missing
    assert chosen.supabase_jwt_audience == "authenticated"
    kept = load_settings(_env_file=None, supabase_url=url, auth_backend="local")
    assert kept.auth_backend == "local"
    assert load_settings(_env_file=None).auth_backend == "local"


def test_supabase_settings_read_their_own_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_URL", "https://p.supabase.co")
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "service")
    monkeypatch.setenv("SUPABASE_JWT_SECRET", "legacy")
    monkeypatch.setenv("SUPABASE_JWT_AUDIENCE", "custom")
    settings = load_settings(_env_file=None)
    assert settings.auth_backend == "supabase"
    assert settings.supabase_api_key == "anon"
    assert settings.supabase_jwt_secret is not None
    assert "legacy" not in repr(settings) and "anon'" not in repr(settings)
    assert settings.supabase_jwt_audience == "custom"


async def test_the_container_wires_supabase(tmp_path: Path, gotrue: FakeGoTrue) -> None:
    settings = make_settings(tmp_path, supabase_url=gotrue.url, supabase_anon_key=gotrue.anon_key)
    container = build_container(settings)
    services = await ServiceSet.resolve(container)
    assert isinstance(services.auth, SupabaseAuthProvider)
    anon = await container.gateways.supabase_anon()
    assert isinstance(anon, SupabaseClient)
    assert (await anon.request("GET", "/rest/v1/echo")).json()["role"] == "anon"
    assert await container.gateways.supabase_service() is None  # no service role key set
    http = await container.gateways.supabase_http()
    await shutdown(container)
    assert http.is_closed
