"""An app on a fresh SQLite file per test, driven through Litestar's async test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from forge_adapters.sql import create_engine, migrate
from forge_adapters.sql.tables import metadata
from forge_http import Settings, build_container, create_app

# Real argon2, at the lowest cost, so that registering dozens of users stays quick.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

SEED_META = {
    "part_name": "propeller",
    "position_json": {"x": 0, "y": 0, "z": 0},
    "image_paths_json": [{"face_direction": [0, 0, 0, 1], "image_src": ""}],
    "material_json": {"type": "plastic", "thickness": "10mm"},
    "used_for_json": ["build air turbulence", "engine coupling"],
}


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/forge.db",
        "data_dir": tmp_path / "data",
        "jwt_secret": "test-secret-" + "x" * 32,
        # Tests sign up many users from one test client: limits are tested on their own.
        "rate_limit_auth_per_minute": 100_000,
        "rate_limit_runs_per_minute": 100_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def database() -> str:
    """Which database the app runs on; a module overrides this to run on PostgreSQL too."""
    return "sqlite"


@pytest.fixture
def database_url(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if database == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/forge.db"
    return str(request.getfixturevalue("postgres_url"))


async def empty_postgres(url: str) -> None:
    """Migrate the test session's database and empty it, so each test starts clean."""
    await migrate(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(table.name for table in metadata.sorted_tables)
            await conn.exec_driver_sql(f"TRUNCATE {tables} CASCADE")
    finally:
        await engine.dispose()


@pytest.fixture
async def client(tmp_path: Path, database_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    if database_url.startswith("postgres"):
        await empty_postgres(database_url)
    # Local auth said outright, so a SUPABASE_URL in the environment can't switch it.
    settings = make_settings(tmp_path, database_url=database_url, auth_backend="local")
    container = build_container(settings)
    container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
    async with AsyncTestClient(
        create_app(container), base_url="http://testserver.local/api/v1"
    ) as c:
        yield c


@dataclass
class User:
    email: str
    user_id: str
    headers: dict[str, str]
    refresh_token: str


async def sign_up(client: AsyncTestClient[Any], email: str, password: str = "secret") -> User:
    registered = await client.post(
        "/auth/register", json={"email": email, "password": password, "display_name": "Demo"}
    )
    assert registered.status_code == 201, registered.text
    login = await client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    body = login.json()
    return User(
        email=email,
        user_id=body["user_id"],
        headers={"Authorization": f"Bearer {body['access_token']}"},
        refresh_token=body["refresh_token"],
    )


@pytest.fixture
async def alice(client: AsyncTestClient[Any]) -> User:
    return await sign_up(client, "alice@example.com")


@pytest.fixture
async def bob(client: AsyncTestClient[Any]) -> User:
    return await sign_up(client, "bob@example.com")


async def create(client: AsyncTestClient[Any], user: User, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_tree(client: AsyncTestClient[Any], user: User) -> dict[str, str]:
    """One of everything, each under the last: the ids by kind."""
    session = await create(client, user, "/sessions", {"name": "Design Session 1"})
    chat = await create(client, user, "/chats", {"session_id": session["id"], "title": "First"})
    message = await create(
        client, user, "/messages", {"chat_id": chat["id"], "role": "user", "content": "Hello"}
    )
    job = await create(client, user, "/jobs", {"session_id": session["id"], "prompt": "a chair"})
    asset = await create(
        client, user, "/assets", {"job_id": job["id"], "asset_type": "glb", "uri": "s3://b/f.glb"}
    )
    meta = await create(client, user, "/asset-meta", {"asset_id": asset["id"], **SEED_META})
    return {
        "session": session["id"],
        "chat": chat["id"],
        "message": message["id"],
        "job": job["id"],
        "asset": asset["id"],
        "meta": meta["id"],
    }


async def snapshot(client: AsyncTestClient[Any], user: User) -> dict[str, Any]:
    """Everything the user can list, to show that a refused request changed nothing."""
    state: dict[str, Any] = {}
    for path in ("/sessions", "/messages", "/jobs", "/assets", "/asset-meta"):
        response = await client.get(path, params={"limit": 200}, headers=user.headers)
        assert response.status_code == 200, response.text
        state[path] = response.json()
    for session in state["/sessions"]:
        response = await client.get(
            "/chats", params={"session_id": session["id"]}, headers=user.headers
        )
        state[f"/chats?{session['id']}"] = response.json()
    return state
