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
from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from forge_adapters.catalog.hybrid import fused
from forge_adapters.catalog.postgres_search import postgres_search
from forge_adapters.catalog.shipped import shipped_components
from forge_adapters.catalog.sqlite_search import SEARCH, SqliteCatalogSearch, match_of
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
        "search_scope": scope_of(component.owner),
        "created_at": component.created_at,
        "updated_at": component.updated_at,
    }


def scope_of(owner: UUID | None) -> str:
    """The FTS scope token of a part: who may see it."""
    return "public" if owner is None else f"u{owner.hex}"


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
        self._fast = fast_search_for(engine)
        self._rows = self._fast or SqliteCatalogSearch(None)
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
        differs: ColumnElement[bool]
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
        if wanted and self._fast is not None and self.vectors is None:
            return self._fast.search(viewer, query, wanted)
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
        match = match_of(viewer, wanted)
        params = (match, query.category, query.category, query.limit, query.offset)
        rows = (await conn.exec_driver_sql(SEARCH, params)).all()
        return self._rows.hits(list(rows), wanted)

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


def fast_search_for(engine: AsyncEngine) -> SqliteCatalogSearch | None:
    """The event-loop search for a SQLite file (closed with the engine), else None."""
    database = engine.url.database or ""
    if engine.url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        return None
    fast = SqliteCatalogSearch(database)
    event.listen(engine.sync_engine, "engine_disposed", fast.close)
    return fast


def _visible(viewer: UUID | None) -> Any:
    if viewer is None:
        return C.owner_id.is_(None)
    return or_(C.owner_id.is_(None), C.owner_id == viewer)
