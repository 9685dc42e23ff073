"""``forge serve`` on a PostgreSQL database that is missing, unreachable or not migrated
stops at once with one line naming the problem and its fix, instead of serving 503s."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from forge_adapters.sql import migrate
from forge_core.errors import Unavailable
from forge_http import build_container, create_app
from tests.conftest import _admin_engine
from tests.e2e.conftest import OWN_SETTINGS, forge_command, free_port
from tests.http.conftest import make_settings

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


def serve(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    return subprocess.run(
        [*forge_command(), "serve", "--port", str(free_port())],
        cwd=cwd,
        env={**environment, "FORGE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,  # the old server never stopped on its own
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
async def empty_database(postgres_url: str) -> AsyncIterator[str]:
    """A new database with nothing in it, dropped after."""
    name = f"forge_unmigrated_{secrets.token_hex(6)}"
    admin = _admin_engine(postgres_url)
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@pytest.mark.postgres
def test_a_missing_database_is_named_with_its_fix(tmp_path: Path, postgres_url: str) -> None:
    url = make_url(postgres_url).set(database="forge_never_made").render_as_string()
    line = one_line(serve(url, tmp_path))
    assert line.startswith(f"forge: cannot serve with {url}: ")
    assert 'database "forge_never_made" does not exist; create it, then run forge migrate' in line


def test_an_unreachable_database_is_named(tmp_path: Path) -> None:
    line = one_line(serve("postgresql://nobody@127.0.0.1:9/none", tmp_path))
    assert "the database does not answer" in line and "FORGE_DATABASE_URL" in line


@pytest.mark.postgres
async def test_a_database_not_migrated_or_behind_says_run_forge_migrate(
    tmp_path: Path, empty_database: str
) -> None:
    line = one_line(serve(empty_database, tmp_path))
    assert line.endswith("the database has no Forge schema yet; run forge migrate")
    await migrate(empty_database, "0003")
    line = one_line(serve(empty_database, tmp_path))
    assert "the database schema is at revision 0003, not " in line
    assert line.endswith("(the newest); run forge migrate")


@pytest.mark.postgres
async def test_an_app_embedded_elsewhere_refuses_to_start_too(
    tmp_path: Path, empty_database: str
) -> None:
    settings = make_settings(tmp_path, database_url=empty_database, object_store="memory")
    app = create_app(build_container(settings))
    with pytest.raises(ExceptionGroup) as caught:  # from the client's task group
        async with AsyncTestClient(app):
            pass
    assert caught.group_contains(Unavailable, match="no Forge schema yet; run forge migrate")
    await migrate(empty_database)
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        assert (await client.get("/health")).json()["status"] == "ok"
