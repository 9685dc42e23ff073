"""Reads whose rows the database renders as JSON, for msgspec to decode in C.

Converting each value in Python (UUIDs, datetimes, JSON columns) through SQLAlchemy's
result objects costs far more than the lookup itself (docs/benchmarks.md has the
figures). So the fast read paths (``sqlite_reads``, ``pg_reads``) ask the database for
each record as a JSON object in the shape of the target dataclass, and msgspec decodes
the lot straight into those dataclasses: UUIDs from their text, datetimes from RFC 3339
text in UTC, JSON columns embedded as JSON, enums from their values.

A ``Plan`` is one query shape: whole records of one table by equality filters,
optionally ordered by (created_at, id) and paged. Only the dataclass's fields are
selected, so columns the entity does not hold never reach it. Filters are bound with
SQLAlchemy's own bind processors, so the fast paths look values up exactly as the
SQLAlchemy path stores them; the contract suite runs the same checks against both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import JSON, DateTime, Table
from sqlalchemy.engine import Dialect

T = TypeVar("T")
Processor = Callable[[Any], Any] | None
PlanKey = tuple[type[Any], str, tuple[str, ...], bool]

# PostgreSQL's own JSON for timestamptz follows the session's TimeZone; this text is
# the instant in UTC whatever the session says, to the microsecond, as msgspec reads it.
_PG_UTC_TEXT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


class Plan(Generic[T]):
    """One query shape on one dialect: its SQL, how to bind its filters, how to decode
    what the query returns (one JSON array of the records)."""

    def __init__(
        self, target: type[T], table: Table, where: tuple[str, ...], ordered: bool, dialect: Dialect
    ) -> None:
        render = _postgres_sql if dialect.name == "postgresql" else _sqlite_sql
        self.sql = render(target, table, where, ordered)
        self.binds: list[Processor] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in where
        ]
        self.decode = msgspec.json.Decoder(list[target]).decode  # type: ignore[valid-type]

    def params(self, where: dict[str, Any]) -> list[Any]:
        binds = zip(self.binds, where.values(), strict=True)
        return [bind(value) if bind else value for bind, value in binds]


class Plans:
    """The plans of one database, made once per query shape."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._plans: dict[PlanKey, Plan[Any]] = {}

    def get(self, target: type[T], table: Table, where: dict[str, Any], ordered: bool) -> Plan[T]:
        key = (target, table.name, tuple(where), ordered)
        plan: Plan[T] | None = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(target, table, tuple(where), ordered, self._dialect)
        return plan


def _sqlite_sql(target: type[Any], table: Table, where: tuple[str, ...], ordered: bool) -> str:
    """One value per call: the JSON array of the rows, as text. Each row is one
    ``json_object`` (JSON columns embedded as JSON; UUID hex, RFC 3339 datetimes
    (coltypes) and text as stored), and ``group_concat`` joins them, which saves a
    Python row per record. It joins them in the subquery's order: SQLite feeds an
    aggregate a subquery with LIMIT row by row, as it comes (it may not flatten it);
    SQLite 3.44's ``group_concat(... ORDER BY ...)`` would say so, but Python 3.11
    ships older. test_sql_fast_reads checks it where no index gives the order."""
    values = ", ".join(f"'{f.name}', {_sqlite_value(table, f.name)}" for f in fields(target))
    conditions = " AND ".join(f'"{name}" = ?' for name in where) or "1"
    rows = f'SELECT json_object({values}) AS record FROM "{table.name}" WHERE {conditions}'
    rows += ' ORDER BY "created_at", "id" LIMIT ? OFFSET ?' if ordered else ""
    return f"SELECT '[' || coalesce(group_concat(record, ','), '') || ']' FROM ({rows})"


def _sqlite_value(table: Table, name: str) -> str:
    return f'json("{name}")' if isinstance(_impl(table, name), JSON) else f'"{name}"'


def _postgres_sql(target: type[Any], table: Table, where: tuple[str, ...], ordered: bool) -> str:
    """One value per call: the JSON array of the rows, as text (no driver codec runs)."""
    values = ", ".join(f"'{f.name}', {_postgres_value(table, f.name)}" for f in fields(target))
    conditions = " AND ".join(f'"{name}" = ${n}' for n, name in enumerate(where, 1)) or "true"
    rows = f'SELECT * FROM "{table.name}" WHERE {conditions}'
    order = ' ORDER BY "created_at", "id"'
    if ordered:
        rows += f"{order} LIMIT ${len(where) + 1} OFFSET ${len(where) + 2}"
    agg = f"json_agg(json_build_object({values}){order if ordered else ''})"
    return f"SELECT coalesce({agg}, '[]')::text FROM ({rows}) AS r"


def _postgres_value(table: Table, name: str) -> str:
    column = f'r."{name}"'
    return _PG_UTC_TEXT.format(column) if isinstance(_impl(table, name), DateTime) else column


def _impl(table: Table, name: str) -> Any:
    column_type = table.c[name].type
    return getattr(column_type, "impl", column_type)
