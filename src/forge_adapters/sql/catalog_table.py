"""The component catalog's table (``forge_adapters.catalog.sql`` reads and writes it).

One row per part: shipped parts and parts imported for the whole site have no owner
(``origin`` says which), a user's parts carry ``owner_id`` and go with the user. ``data``
is the component's JSON; the ``search_*`` columns hold its words
(``forge_core.catalog_text.fields_text``) for the full-text index, which each database
keeps its own way, outside the models: on SQLite the FTS5 table ``components_fts``
(external content on ``num``, kept by triggers), on PostgreSQL the generated
``search_vector`` column with a GIN index (migration 0005_catalog).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from .coltypes import Json, UtcDateTime
from .tables import metadata

COMPONENTS = Table(
    "components",
    metadata,
    Column("num", Integer(), primary_key=True, autoincrement=True),
    Column("id", String(), nullable=False),
    Column(
        "owner_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE", name="fk_components_owner_id"),
        nullable=True,
    ),
    Column("origin", String(), nullable=False),
    Column("name", String(), nullable=False),
    Column("category", String(), nullable=False),
    Column("data", Json(), nullable=False),
    Column("search_name", Text(), nullable=False),
    Column("search_aliases", Text(), nullable=False),
    Column("search_body", Text(), nullable=False),
    # "public" (shipped and site parts) or "u" + the owner's hex: who sees the part.
    Column("search_scope", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=True),
    UniqueConstraint("id", name="uq_components_id"),
    Index("ix_components_owner_category", "owner_id", "category"),
)

#: Schema objects the full-text index adds beyond the models, which a comparison of the
#: models with the database leaves out (``include_name`` for Alembic).
UNMODELLED = ("components_fts", "search_vector", "ix_components_search", "components_vec")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's filter: everything but the full-text (and vector) index objects."""
    return name is None or not name.startswith(UNMODELLED)
