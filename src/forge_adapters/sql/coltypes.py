"""Column types that give rows back as the core's values: aware UTC datetimes, UUID
lists, enums, JSON (JSONB on PostgreSQL). Each is a TypeDecorator over a plain type, so
migrations use the plain type and Alembic compares them as equal."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, DateTime, Dialect, String
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLite keeps datetimes as text: RFC 3339 in UTC, fixed width, so the text sorts and
# compares like the instant, and the SQLite read path hands it to msgspec as it is.
SQLITE_DATETIME = sqlite.DATETIME(  # type: ignore[no-untyped-call]  # unannotated in SQLAlchemy
    storage_format=(
        "%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06dZ"
    ),
    regexp=r"(\d+)-(\d+)-(\d+)[T ](\d+):(\d+):(\d+)(?:\.(\d+))?Z?",
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, stored as UTC: ``timestamptz`` on PostgreSQL, RFC 3339
    text on SQLite (``SQLITE_DATETIME``). Naive datetimes are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(SQLITE_DATETIME)
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: forge stores aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)


class Json(TypeDecorator[Any]):
    """JSON; JSONB on PostgreSQL. Python ``None`` is SQL NULL, not JSON ``null``."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))


class UuidList(Json):
    """A list of UUIDs, stored as a JSON array of their strings."""

    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else [str(item) for item in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else [UUID(item) for item in value]


class StrEnumText(TypeDecorator[StrEnum]):
    """A ``StrEnum`` stored as its text value and read back as the member."""

    impl = String()
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)
