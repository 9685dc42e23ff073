"""``forge catalog import`` and ``forge catalog search``, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from forge_adapters.catalog import SqlCatalog
from forge_adapters.sql import SqlAuthStore, create_engine, migrate
from forge_core.entities import User
from forge_core.ports import ComponentQuery
from tests.e2e.conftest import forge_command

pytestmark = pytest.mark.anyio


def forge(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORGE_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run(
        [*forge_command(), "catalog", *args], env=env, capture_output=True, text=True, timeout=60
    )


def write(path: Path, *lines: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


PLATE = {"id": "plate-1", "name": "Shop plate QX9", "category": "other", "source": "calipers"}


def test_search_prints_the_best_parts_with_their_holes(tmp_path: Path) -> None:
    done = forge(tmp_path / "f.db", "search", "a 20 x 20 mm stack", "--limit", "3")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert "fc-stack-20x20" in first and "holes 20x20 M2" in first
    as_json = forge(tmp_path / "f.db", "search", "608zz", "--json", "--limit", "1")
    assert json.loads(as_json.stdout)["dimensions_mm"]["outer_diameter"] == 22


def test_a_site_import_is_searchable_and_a_second_import_replaces_it(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    first = forge(db, "import", str(write(tmp_path / "a.jsonl", PLATE)))
    assert first.returncode == 0 and "imported 1 components" in first.stdout
    renamed = {**PLATE, "name": "Shop plate QX10"}
    assert forge(db, "import", str(write(tmp_path / "b.jsonl", renamed))).returncode == 0
    found = [
        json.loads(line) for line in forge(db, "search", "shop plate", "--json").stdout.splitlines()
    ]
    assert [p["name"] for p in found if p["id"] == "plate-1"] == ["Shop plate QX10"]


def test_a_bad_file_stores_nothing_and_says_which_line(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    bad = write(tmp_path / "bad.jsonl", PLATE, {**PLATE, "id": "p2", "category": "spaceship"})
    done = forge(db, "import", str(bad))
    assert done.returncode == 1 and "bad.jsonl 2: category" in done.stderr
    taken = forge(
        db, "import", str(write(tmp_path / "t.jsonl", PLATE, {**PLATE, "id": "bearing-608"}))
    )
    assert taken.returncode == 1 and "bearing-608" in taken.stderr
    assert "plate-1" not in forge(db, "search", "shop plate QX9").stdout


async def test_an_owned_import_belongs_to_that_user_only(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    engine = create_engine(f"sqlite:///{db}")
    now = datetime.now(UTC)
    user = User(id=uuid4(), email="maker@example.com", created_at=now, updated_at=now)
    try:
        await migrate(engine)
        await SqlAuthStore(engine).add_user(user, None)
        done = forge(db, "import", str(write(tmp_path / "a.jsonl", PLATE)), "--owner", user.email)
        assert done.returncode == 0, done.stderr
        catalog = SqlCatalog(engine)
        mine = await catalog.search(user.id, ComponentQuery("qx9"))
        assert [h.component.owner for h in mine] == [user.id]
        assert await catalog.search(uuid4(), ComponentQuery("qx9")) == []
    finally:
        await engine.dispose()
    unknown = forge(db, "import", str(tmp_path / "a.jsonl"), "--owner", "nobody@example.com")
    assert unknown.returncode == 1 and "nobody@example.com" in unknown.stderr
