"""The catalog on SQL: SQLite ranks with FTS5's ``bm25()``; PostgreSQL finds candidates
with its GIN-indexed ``search_vector`` and ranks them by the same BM25 in Python
(``bm25``), with corpus statistics counted in the same query.

The shipped parts are written to the table by the first call of each catalog
(``_ensure_shipped``): inserted when missing, rewritten when the data changed, removed
when Forge no longer ships them, so a database follows the installed version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

import anyio
from sqlalchemy import Float, Uuid, and_, bindparam, column, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from forge_adapters.catalog.hybrid import fused
from forge_adapters.catalog.postgres_search import postgres_search
from forge_adapters.catalog.shipped import shipped_components
from forge_adapters.catalog.vectors import (
    MIN_SIMILARITY,
    PgVectors,
    SqliteVectors,
    sqlite_vec_loader,
)
from forge_adapters.sql.catalog_table import COMPONENTS
from forge_adapters.sql.engine import write_transaction
from forge_adapters.sql.errors import translate_errors
from forge_core.catalog_text import fields_text, terms
from forge_core.components import Component, ComponentHit, component_from_json
from forge_core.errors import AlreadyExists, Conflict, NotFound
from forge_core.ports import ComponentQuery, Embeddings

C = COMPONENTS.c
_READ = (C.id, C.owner_id, C.data, C.created_at, C.updated_at)
FTS_WEIGHTS = "10.0, 6.0, 1.0"  # name, aliases, notes: as bm25.FIELD_WEIGHTS

SQLITE_SEARCH = f"""
SELECT c.id, c.owner_id, c.data, c.created_at, c.updated_at,
       c.search_name, c.search_aliases, c.search_body,
       bm25(components_fts, {FTS_WEIGHTS}) AS rank
FROM components_fts JOIN components AS c ON c.num = components_fts.rowid
WHERE components_fts MATCH :match
  AND (c.owner_id IS NULL OR c.owner_id = :viewer)
  AND (:category IS NULL OR c.category = :category)
ORDER BY rank, c.id
LIMIT :limit OFFSET :offset
"""


_SQLITE_STATEMENT = (
    text(SQLITE_SEARCH)
    .bindparams(bindparam("viewer", type_=Uuid()))
    .columns(
        C.id,
        C.owner_id,
        C.data,
        C.created_at,
        C.updated_at,
        C.search_name,
        C.search_aliases,
        C.search_body,
        column("rank", Float()),
    )
)


def row_values(component: Component, origin: str) -> dict[str, Any]:
    name, aliases, body = fields_text(component)
    return {
        "id": component.id,
        "owner_id": component.owner,
        "origin": origin,
        "name": component.name,
        "category": component.category,
        "data": component.to_json(),
        "search_name": name,
        "search_aliases": aliases,
        "search_body": body,
        "created_at": component.created_at,
        "updated_at": component.updated_at,
    }


def component_of(row: Sequence[Any]) -> Component:
    """A component from a typed (id, owner_id, data, created_at, updated_at) row."""
    parsed = component_from_json(row[2], owner=row[1], id=row[0])
    return replace(parsed, created_at=row[3], updated_at=row[4])


class SqlCatalog:
    def __init__(
        self,
        engine: AsyncEngine,
        shipped: Iterable[Component] | None = None,
        embeddings: Embeddings | None = None,
        min_similarity: float = MIN_SIMILARITY,
    ) -> None:
        self.engine = engine
        self.min_similarity = min_similarity
        self._shipped = tuple(shipped_components() if shipped is None else shipped)
        self._ready = False
        self._lock = anyio.Lock()
        self._postgres = engine.dialect.name == "postgresql"
        self.vectors: SqliteVectors | PgVectors | None = None
        if embeddings is not None:
            self.vectors = (
                PgVectors(embeddings)
                if self._postgres
                else SqliteVectors(engine, embeddings, in_sql=sqlite_vec_loader(engine))
            )

    async def _ensure_shipped(self) -> None:
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            with translate_errors():
                async with write_transaction(self.engine) as conn:
                    await self._write_shipped(conn)
            await self._sync_vectors()
            self._ready = True

    async def _sync_vectors(self) -> None:
        """Embed what has no vector yet (or changed): at the first call, after writes."""
        if self.vectors is None:
            return
        with translate_errors():
            async with write_transaction(self.engine) as conn:
                await self.vectors.sync(conn)

    async def _write_shipped(self, conn: AsyncConnection) -> None:
        rows = [row_values(c, "shipped") for c in self._shipped]
        ids = [r["id"] for r in rows]
        await conn.execute(delete(COMPONENTS).where(C.origin == "shipped", C.id.not_in(ids)))
        insert = pg_insert if self._postgres else sqlite_insert
        statement = insert(COMPONENTS)
        changed = {k: statement.excluded[k] for k in rows[0] if k != "id"} if rows else {}
        if self._postgres:
            differs = COMPONENTS.c.data.op("IS DISTINCT FROM")(statement.excluded.data)
        else:
            differs = func.json(COMPONENTS.c.data) != func.json(statement.excluded.data)
        upsert = statement.on_conflict_do_update(
            index_elements=["id"], set_=changed, where=and_(C.origin == "shipped", differs)
        )
        for start in range(0, len(rows), 200):
            await conn.execute(upsert, rows[start : start + 200])

    async def search(self, viewer: UUID | None, query: ComponentQuery) -> list[ComponentHit]:
        await self._ensure_shipped()
        wanted = terms(query.text)
        with translate_errors():
            async with self.engine.connect() as conn:
                if not wanted:
                    return await self._listing(conn, viewer, query)
                if self.vectors is None:
                    return await self._lexical(conn, viewer, query, wanted)
                deep = replace(query, limit=min(query.offset + query.limit + 100, 500), offset=0)
                lexical = await self._lexical(conn, viewer, deep, wanted)
                return await fused(
                    conn, self.vectors, viewer, query, wanted, lexical, self.min_similarity
                )

    async def _lexical(
        self, conn: AsyncConnection, viewer: UUID | None, query: ComponentQuery, wanted: list[str]
    ) -> list[ComponentHit]:
        if self._postgres:
            return await postgres_search(conn, viewer, query, wanted)
        return await self._sqlite_search(conn, viewer, query, wanted)

    async def _sqlite_search(
        self, conn: AsyncConnection, viewer: UUID | None, query: ComponentQuery, wanted: list[str]
    ) -> list[ComponentHit]:
        params = {
            "match": " OR ".join(f'"{t}"' for t in wanted),
            "viewer": viewer,
            "category": query.category,
            "limit": query.limit,
            "offset": query.offset,
        }
        result = await conn.execute(_SQLITE_STATEMENT, params)
        hits = []
        for row in result.all():
            words = set(f"{row[5]} {row[6]} {row[7]}".split())
            matched = tuple(t for t in wanted if t in words)
            hits.append(ComponentHit(component_of(row), -float(row[8]), matched))
        return hits

    async def _listing(
        self, conn: AsyncConnection, viewer: UUID | None, query: ComponentQuery
    ) -> list[ComponentHit]:
        statement = (
            select(*_READ)
            .where(_visible(viewer))
            .order_by(func.lower(C.name), C.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        if query.category is not None:
            statement = statement.where(C.category == query.category)
        rows = (await conn.execute(statement)).all()
        return [ComponentHit(component_of(r), 0.0) for r in rows]

    async def get(self, viewer: UUID | None, component_id: str) -> Component:
        await self._ensure_shipped()
        with translate_errors():
            async with self.engine.connect() as conn:
                statement = select(*_READ).where(C.id == component_id, _visible(viewer))
                row = (await conn.execute(statement)).first()
        if row is None:
            raise NotFound("Component", component_id)
        return component_of(row)

    async def import_parts(self, components: Sequence[Component]) -> int:
        """Store parts in one transaction (``forge catalog import``): parts with an owner
        are that user's, parts without are the site's (read-only, seen by all). A part
        whose id was imported before by the same owner (or for the site) is replaced.
        Raises AlreadyExists, storing nothing, if an id belongs to another part (a
        shipped one, another user's). Returns how many were stored."""
        await self._ensure_shipped()
        rows = [row_values(c, "user" if c.owner else "site") for c in components]
        ids = [r["id"] for r in rows]
        with translate_errors():
            async with write_transaction(self.engine) as conn:
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    taken = await conn.execute(
                        select(C.id, C.origin, C.owner_id).where(C.id.in_(chunk))
                    )
                    mine = {(r["id"], r["origin"], r["owner_id"]) for r in rows if r["id"] in chunk}
                    for row in taken.all():
                        if tuple(row) not in mine:
                            raise AlreadyExists(f"component id {row[0]!r} is taken by another part")
                    await conn.execute(delete(COMPONENTS).where(C.id.in_(chunk)))
                for start in range(0, len(rows), 500):
                    await conn.execute(COMPONENTS.insert(), rows[start : start + 500])
        await self._sync_vectors()
        return len(rows)

    async def add(self, component: Component) -> None:
        await self._ensure_shipped()
        try:
            with translate_errors():
                async with write_transaction(self.engine) as conn:
                    await conn.execute(COMPONENTS.insert(), [row_values(component, "user")])
        except Conflict as exc:  # the unique id (translate_errors maps IntegrityError)
            raise AlreadyExists(f"component id {component.id!r} is taken") from exc
        await self._sync_vectors()

    async def update(self, component: Component) -> None:
        await self._ensure_shipped()
        values = row_values(component, "user")
        with translate_errors():
            async with write_transaction(self.engine) as conn:
                statement = (
                    update(COMPONENTS)
                    .where(C.id == component.id, C.owner_id == component.owner)
                    .values(values)
                )
                if (await conn.execute(statement)).rowcount != 1:
                    raise NotFound("Component", component.id)
        await self._sync_vectors()

    async def delete(self, owner: UUID, component_id: str) -> None:
        with translate_errors():
            async with write_transaction(self.engine) as conn:
                statement = delete(COMPONENTS).where(C.id == component_id, C.owner_id == owner)
                if (await conn.execute(statement)).rowcount != 1:
                    raise NotFound("Component", component_id)
        if self.vectors is not None:
            self.vectors.forget()

    async def count(self) -> int:
        await self._ensure_shipped()
        with translate_errors():
            async with self.engine.connect() as conn:
                return int(
                    (await conn.execute(select(func.count()).select_from(COMPONENTS))).scalar_one()
                )


def _visible(viewer: UUID | None) -> Any:
    if viewer is None:
        return C.owner_id.is_(None)
    return or_(C.owner_id.is_(None), C.owner_id == viewer)
