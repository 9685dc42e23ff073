"""Catalog search on a SQLite file, on the event loop's own thread (as the repository's
reads, ``forge_adapters.sql.sqlite_reads``): an FTS5 query over a few thousand parts
takes well under a millisecond, less than the five thread hand-offs of aiosqlite. One
read-only connection in autocommit mode; in WAL mode it never waits for writers and
sees every committed write. Parts are built from their JSON once and kept while their
stored JSON is unchanged (``_parts``)."""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from typing import Any
from uuid import UUID

from forge_core.components import Component, ComponentHit, component_from_json
from forge_core.errors import Unavailable
from forge_core.ports import ComponentQuery

FTS_WEIGHTS = "10.0, 6.0, 1.0, 0.0"  # name, aliases, notes (bm25.FIELD_WEIGHTS); scope
# Ranked on the narrow columns first, the page's rows read whole after: reading every
# match's JSON before sorting cost ten times the ranking with 10,000 parts.
SEARCH = f"""
WITH page AS (
  SELECT c.num AS num, c.id AS id, bm25(components_fts, {FTS_WEIGHTS}) AS rank
  FROM components_fts JOIN components AS c ON c.num = components_fts.rowid
  WHERE components_fts MATCH ?
    AND (? IS NULL OR c.category = ?)
  ORDER BY rank, c.id
  LIMIT ? OFFSET ?
)
SELECT c.id, c.owner_id, c.data, c.created_at, c.updated_at,
       c.search_name || ' ' || c.search_aliases || ' ' || c.search_body, page.rank
FROM page JOIN components AS c ON c.num = page.num
ORDER BY page.rank, page.id
"""
CACHED_PARTS = 20_000


def match_of(viewer: UUID | None, wanted: list[str]) -> str:
    """The FTS5 query: any of the words, among the parts ``viewer`` sees."""
    words = " OR ".join(f'"{t}"' for t in wanted)
    scopes = "public" if viewer is None else f"public OR u{viewer.hex}"
    return f"({words}) AND search_scope : ({scopes})"


class SqliteCatalogSearch:
    def __init__(self, path: str | None) -> None:
        """``path`` None: no connection of its own (``hits`` only, for rows read elsewhere)."""
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._parts: OrderedDict[tuple[str, str], Component] = OrderedDict()

    def search(
        self, viewer: UUID | None, query: ComponentQuery, wanted: list[str]
    ) -> list[ComponentHit]:
        params = (
            match_of(viewer, wanted),
            query.category,
            query.category,
            query.limit,
            query.offset,
        )
        try:
            rows = self._connect().execute(SEARCH, params).fetchall()
        except sqlite3.Error as exc:
            raise Unavailable("the database cannot answer now") from exc
        return self.hits(rows, wanted)

    def hits(self, rows: list[Any], wanted: list[str]) -> list[ComponentHit]:
        """Hits from rows of ``SEARCH`` (raw SQLite values)."""
        hits = []
        for row in rows:
            words = set(row[5].split())
            matched = tuple(t for t in wanted if t in words)
            hits.append(ComponentHit(self._part(row), -float(row[6]), matched))
        return hits

    def _part(
        self, row: tuple[str, str | None, str, str | None, str | None, str, float]
    ) -> Component:
        key = (row[0], row[2] + (row[4] or ""))
        found = self._parts.get(key)
        if found is None:
            owner = None if row[1] is None else UUID(hex=row[1])
            found = component_from_json(json.loads(row[2]), owner=owner, id=row[0])
            found = _stamped(found, row[3], row[4])
            self._parts[key] = found
            if len(self._parts) > CACHED_PARTS:
                self._parts.popitem(last=False)
        return found

    def close(self, *_: object) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        assert self._path is not None
        if self._connection is None:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA query_only=ON")
            self._connection = connection
        return self._connection


def _stamped(part: Component, created: str | None, updated: str | None) -> Component:
    from dataclasses import replace
    from datetime import datetime

    def when(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))

    return replace(part, created_at=when(created), updated_at=when(updated))
