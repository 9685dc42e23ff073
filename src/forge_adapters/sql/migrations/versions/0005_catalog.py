"""The component catalog: one table for shipped, site and user parts, with its
full-text index (FTS5 on SQLite, a generated tsvector with GIN on PostgreSQL).

Revision ID: 0005_catalog
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_catalog"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")

SQLITE_FTS = (
    # External content on components.num: the index keeps only the words.
    # search_scope ("public", or "u" and the owner's hex) lets a search rank only the
    # parts its viewer sees: the scope joins the MATCH, so other users' parts are never
    # scored (its bm25 weight is 0, so it changes no score).
    "CREATE VIRTUAL TABLE components_fts USING fts5("
    "search_name, search_aliases, search_body, search_scope, content='components', "
    "content_rowid='num', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER components_fts_insert AFTER INSERT ON components BEGIN "
    "INSERT INTO components_fts(rowid, search_name, search_aliases, search_body, search_scope) "
    "VALUES (new.num, new.search_name, new.search_aliases, new.search_body, new.search_scope); END",
    "CREATE TRIGGER components_fts_delete AFTER DELETE ON components BEGIN "
    "INSERT INTO components_fts(components_fts, rowid, search_name, search_aliases, search_body, "
    "search_scope) VALUES ('delete', old.num, old.search_name, old.search_aliases, "
    "old.search_body, old.search_scope); END",
    "CREATE TRIGGER components_fts_update AFTER UPDATE ON components BEGIN "
    "INSERT INTO components_fts(components_fts, rowid, search_name, search_aliases, search_body) "
    "VALUES ('delete', old.num, old.search_name, old.search_aliases, old.search_body); "
    "INSERT INTO components_fts(rowid, search_name, search_aliases, search_body, search_scope) "
    "VALUES (new.num, new.search_name, new.search_aliases, new.search_body, new.search_scope); END",
)
POSTGRES_FTS = (
    # 'simple': no stemming or stop words; the words are already normalised.
    "ALTER TABLE components ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', search_name), 'A') || "
    "setweight(to_tsvector('simple', search_aliases), 'B') || "
    "setweight(to_tsvector('simple', search_body), 'D')) STORED",
    "CREATE INDEX ix_components_search ON components USING gin (search_vector)",
)


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("num", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("search_name", sa.Text(), nullable=False),
        sa.Column("search_aliases", sa.Text(), nullable=False),
        sa.Column("search_body", sa.Text(), nullable=False),
        sa.Column("search_scope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], ondelete="CASCADE", name="fk_components_owner_id"
        ),
        sa.UniqueConstraint("id", name="uq_components_id"),
    )
    op.create_index("ix_components_owner_category", "components", ["owner_id", "category"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS components_fts")
    op.drop_index("ix_components_owner_category", table_name="components")
    op.drop_table("components")
