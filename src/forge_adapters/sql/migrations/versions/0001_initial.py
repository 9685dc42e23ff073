"""The initial schema: users, logins and the owned records.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
OWNED = ("sessions", "chats", "messages", "jobs", "assets", "asset_meta")
PARENT = {"chats": "session_id", "messages": "chat_id", "jobs": "session_id",
          "assets": "job_id", "asset_meta": "asset_id"}  # fmt: skip


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _stamps() -> list[sa.Column[Any]]:
    return [_time("created_at"), _time("updated_at")]


def _ref(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.Column[Any]:
    fk = sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}", ondelete=ondelete)
    return sa.Column(column, sa.Uuid(), fk, nullable=ondelete == "SET NULL")


def _owned(table: str, *columns: sa.Column[Any], parent: tuple[str, str] | None = None) -> None:
    """An owned table: id, user_id, its parent's id, ``columns``, timestamps."""
    head = [sa.Column("id", sa.Uuid(), primary_key=True), _ref(table, "user_id", "users")]
    if parent is not None:
        head.append(_ref(table, parent[0], parent[1]))
    op.create_table(table, *head, *columns, *_stamps())


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=True),
        *_stamps(),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _ref("auth_sessions", "user_id", "users"),
        sa.Column("refresh_token_hash", sa.String(), nullable=True),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        *_stamps(),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])
    _owned(
        "sessions",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("metadata_json", JSON, nullable=True),
    )
    _owned(
        "chats",
        sa.Column("title", sa.String(), nullable=True),
        parent=("session_id", "sessions"),
    )
    _owned(
        "messages",
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=True),
        sa.Column("metadata_json", JSON, nullable=True),
        parent=("chat_id", "chats"),
    )
    _owned(
        "jobs",
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("output_format", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("spec", JSON, nullable=True),
        _time("started_at", nullable=True),
        _time("completed_at", nullable=True),
        parent=("session_id", "sessions"),
    )
    _owned(
        "assets",
        sa.Column("asset_type", sa.String(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        parent=("job_id", "jobs"),
    )
    _owned(
        "asset_meta",
        sa.Column("part_name", sa.String(), nullable=True),
        _ref("asset_meta", "component_of", "assets", ondelete="SET NULL"),
        sa.Column("position_json", JSON, nullable=True),
        sa.Column("image_paths_json", JSON, nullable=True),
        sa.Column("material_json", JSON, nullable=True),
        sa.Column("is_composite_of", JSON, nullable=True),
        sa.Column("used_for_json", JSON, nullable=True),
        parent=("asset_id", "assets"),
    )
    _order_indexes()


def _order_indexes() -> None:
    """Indexes for listing oldest first: by owner, and by parent."""
    for table in OWNED:
        op.create_index(f"ix_{table}_owner_order", table, ["user_id", "created_at", "id"])
        if table in PARENT:
            columns = [PARENT[table], "created_at", "id"]
            op.create_index(f"ix_{table}_parent_order", table, columns)
    op.create_index("ix_asset_meta_component_of", "asset_meta", ["component_of"])


def downgrade() -> None:
    for table in (*reversed(OWNED), "auth_sessions", "users"):
        op.drop_table(table)
