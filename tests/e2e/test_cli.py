"""The ``forge`` command as a user types it: --help, migrate on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import OWN_SETTINGS, forge_command

pytestmark = pytest.mark.e2e


def forge(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    return subprocess.run(
        [*forge_command(), *args],
        cwd=cwd,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = forge("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "serve" in result.stdout and "migrate" in result.stdout


def test_migrate_makes_the_sqlite_default_and_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        result = forge("migrate", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    tables = sqlite3.connect(tmp_path / "forge.db").execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    )
    assert {"sessions", "chats", "messages", "jobs", "assets", "asset_meta", "users"} <= {
        name for (name,) in tables
    }


@pytest.mark.postgres
def test_migrate_brings_postgres_up_to_date(tmp_path: Path, postgres_url: str) -> None:
    for _ in range(2):
        result = forge("migrate", cwd=tmp_path, FORGE_DATABASE_URL=postgres_url)
        assert result.returncode == 0, result.stderr


def test_migrate_against_an_unreachable_database_says_so(tmp_path: Path) -> None:
    result = forge(
        "migrate", cwd=tmp_path, FORGE_DATABASE_URL="postgresql://nobody@127.0.0.1:9/none"
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "database" in result.stderr.lower()


def test_serve_on_a_busy_port_says_so_in_one_line_before_starting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = forge("serve", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"forge: cannot listen on 127.0.0.1:{port}: the port is in use (another forge "
        "serve?); stop it, or choose another port with --port or FORGE_PORT"
    ]
    # Checked first: no start-up ran, so the SQLite file and the data folder were not made.
    assert not (tmp_path / "forge.db").exists() and not (tmp_path / "forge-data").exists()
