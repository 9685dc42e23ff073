"""The Leases port over SQL: ``lease_owner`` and ``lease_expires_at`` on ``runs`` and
``jobs`` (migration 0004), one class for both tables.

A claim first checks for a free row without locking (an idle replica then takes no
write lock: SQLite has one writer), then takes rows in one write transaction::

    SELECT id FROM t WHERE claimable AND lease free
    ORDER BY created_at, id LIMIT :n FOR UPDATE SKIP LOCKED;
    UPDATE t SET lease_owner = :worker, lease_expires_at = :until
    WHERE id IN (:those ids) AND claimable AND lease free RETURNING ...;

On PostgreSQL, ``SKIP LOCKED`` makes concurrent claimers pass over the rows another
one is taking, and the locks last until the commit. (Not one ``UPDATE ... WHERE id IN
(SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)``: PostgreSQL may run such a subquery more
than once, and the contract suite saw it take more than ``n`` rows.) SQLite's compiler
drops the locking clause; the UPDATE re-checks that each row is still free, and its
single writer makes that atomic, so both run the same code.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Table, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_core.entities import InferenceRun, Job, JobStatus
from forge_core.lifecycle import RUN_UNFINISHED

from .engine import write_transaction
from .errors import translate_errors
from .tables import RUNS, TABLES

T = TypeVar("T")
JOBS = TABLES[Job]
#: What Python's ``str.strip()`` takes off a blank SCAD (``scad_of``), for SQL's trim.
_BLANKS = " \t\n\r\f\v"


class SqlLeases(Generic[T]):
    """Leases on one table's rows; see ``forge_core.ports.Leases``. ``claimable`` is the
    SQL condition for an unfinished row; rows come back as ``kind``."""

    def __init__(
        self, engine: AsyncEngine, table: Table, kind: type[T], claimable: ColumnElement[bool]
    ) -> None:
        self._engine, self._table, self._kind = engine, table, kind
        self._claimable = claimable
        self._columns = [table.c[f.name] for f in fields(kind)]  # type: ignore[arg-type]

    def _free(self, now: datetime) -> ColumnElement[bool]:
        expires = self._table.c.lease_expires_at
        return self._claimable & (expires.is_(None) | (expires < now))

    async def claim(
        self,
        worker: str,
        now: datetime,
        until: datetime,
        limit: int,
        ids: Collection[UUID] | None = None,
    ) -> list[T]:
        table = self._table
        free = self._free(now)
        if ids is not None:
            if not ids:
                return []
            free = free & table.c.id.in_(list(ids))
        if limit < 1 or not await self._any(free):
            return []
        locked = (
            select(table.c.id)
            .where(free)
            .order_by(table.c.created_at, table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        take = update(table).values(lease_owner=worker, lease_expires_at=until)
        with translate_errors():
            async with write_transaction(self._engine) as conn:
                picked = list((await conn.execute(locked)).scalars())
                if not picked:
                    return []
                statement = take.where(table.c.id.in_(picked), free).returning(*self._columns)
                rows = (await conn.execute(statement)).mappings().all()
        return sorted((self._kind(**row) for row in rows), key=_order)

    async def renew(self, worker: str, ids: Collection[UUID], until: datetime) -> set[UUID]:
        if not ids:
            return set()
        table = self._table
        statement = (
            update(table)
            .where(table.c.id.in_(list(ids)), table.c.lease_owner == worker, self._claimable)
            .values(lease_expires_at=until)
            .returning(table.c.id)
        )
        with translate_errors():
            async with write_transaction(self._engine) as conn:
                return set((await conn.execute(statement)).scalars())

    async def release(self, worker: str, ids: Collection[UUID] | None = None) -> None:
        table = self._table
        held = table.c.lease_owner == worker
        if ids is not None:
            if not ids:
                return
            held = held & table.c.id.in_(list(ids))
        statement = update(table).where(held).values(lease_owner=None, lease_expires_at=None)
        with translate_errors():
            async with write_transaction(self._engine) as conn:
                await conn.execute(statement)

    async def _any(self, free: ColumnElement[bool]) -> bool:
        """Whether some row is claimable now: a plain read, no lock taken."""
        with translate_errors():
            async with self._engine.connect() as conn:
                return await conn.scalar(select(self._table.c.id).where(free).limit(1)) is not None


def _order(record: Any) -> tuple[datetime, str]:
    return record.created_at, str(record.id)


def run_leases(engine: AsyncEngine) -> SqlLeases[InferenceRun]:
    """Leases on unfinished runs (queued or in progress)."""
    unfinished = sorted(status.value for status in RUN_UNFINISHED)
    return SqlLeases(engine, RUNS, InferenceRun, RUNS.c.status.in_(unfinished))


def job_leases(engine: AsyncEngine) -> SqlLeases[Job]:
    """Leases on running jobs whose spec carries a non-blank ``scad_code`` string: the
    pipeline's work (``forge_core.services.production.scad_of``)."""
    spec = JOBS.c.spec
    if engine.dialect.name == "postgresql":
        is_text = func.jsonb_typeof(spec.op("->")(literal("scad_code"))) == "string"
        code = func.btrim(spec.op("->>")(literal("scad_code")), _BLANKS)
    else:  # SQLite's JSON1 functions
        is_text = func.json_type(spec, "$.scad_code") == "text"
        code = func.trim(func.json_extract(spec, "$.scad_code"), _BLANKS)
    claimable = (JOBS.c.status == JobStatus.RUNNING.value) & is_text & (code != "")
    return SqlLeases(engine, JOBS, Job, claimable)
