"""The Repository port over SQL (SQLite or PostgreSQL), one transaction per call.

Reads are Core selects whose row mappings become entity dataclasses directly (column
names are field names); no ORM instance is ever made. Deletes are one statement: the
schema's ON DELETE CASCADE / SET NULL does the rest, as MemoryRepository mimics.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from forge_core.entities import PARENTS, Asset, AssetMeta, Job, JobStatus, OwnedEntity, kind_name
from forge_core.errors import AlreadyExists, ForgeError, InvalidInput, NotFound, StaleObject

from .engine import write_transaction
from .errors import translate_errors
from .json_reads import json_reads_for
from .tables import TABLES, USERS

E = TypeVar("E", bound=OwnedEntity)

_FIELDS: dict[type[Any], tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind)) for kind in TABLES
}


def _select(kind: type[Any], table: Table) -> Select[Any]:
    """The kind's own columns (a job row also holds its lease, which is no field)."""
    return select(*(table.c[name] for name in _FIELDS[kind]))


def _table(kind: type[Any]) -> Table:
    try:
        return TABLES[kind]
    except KeyError:
        raise InvalidInput("kind", f"{kind!r} is not an owned record") from None


def _values(entity: OwnedEntity) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in _FIELDS[type(entity)]}


def _owned_by(table: Table, entity_id: UUID, owner: UUID) -> ColumnElement[bool]:
    return (table.c.id == entity_id) & (table.c.user_id == owner)


class SqlRepository:
    """Owned records in SQL tables; see ``forge_core.ports.Repository``."""

    def __init__(self, engine: AsyncEngine, *, fast_reads: bool = True) -> None:
        """``fast_reads=False`` reads through SQLAlchemy only (the benchmarks' baseline)."""
        self._engine = engine
        self._fast_reads = json_reads_for(engine) if fast_reads else None

    async def add(self, entity: OwnedEntity) -> None:
        with translate_errors():
            try:
                async with write_transaction(self._engine) as conn:
                    await conn.execute(insert(_table(type(entity))), _values(entity))
            except IntegrityError as exc:
                raise await self._clash(entity) from exc

    async def get(self, kind: type[E], entity_id: UUID, owner: UUID) -> E:
        table = _table(kind)
        if self._fast_reads is not None:
            found = await self._fast_reads.fetch(kind, table, {"id": entity_id, "user_id": owner})
            if not found:
                raise NotFound(kind_name(kind), entity_id)
            return found[0]
        with translate_errors():
            async with self._engine.connect() as conn:
                statement = _select(kind, table).where(_owned_by(table, entity_id, owner))
                row = (await conn.execute(statement)).mappings().first()
        if row is None:
            raise NotFound(kind_name(kind), entity_id)
        return kind(**row)

    async def list(
        self,
        kind: type[E],
        owner: UUID,
        *,
        where: Mapping[str, UUID] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[E]:
        table = _table(kind)
        for field in where or {}:
            if field not in _FIELDS[kind]:
                raise InvalidInput(field, f"{kind_name(kind)} has no such field")
        if self._fast_reads is not None:
            conditions = {"user_id": owner, **(where or {})}
            return await self._fast_reads.fetch(
                kind, table, conditions, ordered=True, limit=limit, offset=offset
            )
        statement = _select(kind, table).where(table.c.user_id == owner)
        for field, value in (where or {}).items():
            statement = statement.where(table.c[field] == value)
        statement = statement.order_by(table.c.created_at, table.c.id).limit(limit).offset(offset)
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(statement)
                return [kind(**row) for row in result.mappings()]

    async def count_owned(self, kind: type[E], ids: Sequence[UUID], owner: UUID) -> int:
        table = _table(kind)
        unique = set(ids)
        if not unique:
            return 0
        statement = select(func.count()).where(table.c.id.in_(unique), table.c.user_id == owner)
        with translate_errors():
            async with self._engine.connect() as conn:
                return int(await conn.scalar(statement) or 0)

    async def update(self, entity: E, *, expected_updated_at: datetime) -> None:
        kind = type(entity)
        table = _table(kind)
        values = _values(entity)
        del values["id"]
        statement = (
            update(table)
            .where(_owned_by(table, entity.id, entity.user_id))
            .where(table.c.updated_at == expected_updated_at)
            .values(values)
        )
        with translate_errors():
            try:
                async with write_transaction(self._engine) as conn:
                    if (await conn.execute(statement)).rowcount == 0:
                        raise await self._why_unchanged(conn, entity)
            except IntegrityError as exc:
                raise await self._clash(entity) from exc

    async def delete(self, kind: type[E], entity_id: UUID, owner: UUID) -> None:
        table = _table(kind)
        with translate_errors():
            async with write_transaction(self._engine) as conn:
                result = await conn.execute(delete(table).where(_owned_by(table, entity_id, owner)))
                if result.rowcount == 0:
                    raise NotFound(kind_name(kind), entity_id)

    async def running_jobs(self, limit: int = 500) -> builtins.list[Job]:
        table = TABLES[Job]
        statement = (
            _select(Job, table)
            .where(table.c.status == JobStatus.RUNNING)
            .order_by(table.c.created_at, table.c.id)
            .limit(limit)
        )
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(statement)
                return [Job(**row) for row in result.mappings()]

    async def jobs_by_status(self) -> dict[str, int]:
        table = TABLES[Job]
        statement = select(table.c.status, func.count()).group_by(table.c.status)
        with translate_errors():
            async with self._engine.connect() as conn:
                result = await conn.execute(statement)
                return {str(status): int(n) for status, n in result.all()}

    async def _why_unchanged(self, conn: AsyncConnection, entity: OwnedEntity) -> ForgeError:
        table = _table(type(entity))
        found = await conn.scalar(select(1).where(_owned_by(table, entity.id, entity.user_id)))
        if found is None:
            return NotFound(kind_name(type(entity)), entity.id)
        return StaleObject(f"{kind_name(type(entity))} {entity.id} changed meanwhile; retry")

    async def _clash(self, entity: OwnedEntity) -> ForgeError:
        """Why a write broke a constraint: a missing parent, owner or component (the
        foreign keys), else a taken id. Asked in a fresh transaction, as PostgreSQL
        aborts the failed one."""
        references: list[tuple[Table, UUID | None, str]] = [(USERS, entity.user_id, "User")]
        if type(entity) in PARENTS:
            field, parent_kind = PARENTS[type(entity)]
            parent = (TABLES[parent_kind], getattr(entity, field), kind_name(parent_kind))
            references.insert(0, parent)
        if isinstance(entity, AssetMeta):
            references.append((TABLES[Asset], entity.component_of, "Asset"))
        async with self._engine.connect() as conn:
            for table, ref_id, name in references:
                if ref_id is not None and not await _exists(conn, table, ref_id):
                    return NotFound(name, ref_id)
        return AlreadyExists(f"{kind_name(type(entity))} {entity.id} already exists")


async def _exists(conn: AsyncConnection, table: Table, row_id: UUID) -> bool:
    return await conn.scalar(select(1).where(table.c.id == row_id)) is not None
