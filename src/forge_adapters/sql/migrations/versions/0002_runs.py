"""Durable inference runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ref(column: str, target: str, ondelete: str = "CASCADE") -> sa.Column[Any]:
    fk = sa.ForeignKey(f"{target}.id", name=f"fk_runs_{column}", ondelete=ondelete)
    return sa.Column(column, sa.Uuid(), fk, nullable=ondelete == "SET NULL")


def _time(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _ref("user_id", "users"),
        _ref("chat_id", "chats"),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("backend_run_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        _time("deadline"),
        _ref("user_message_id", "messages", ondelete="SET NULL"),
        _ref("result_message_id", "messages", ondelete="SET NULL"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_index("ix_runs_status_order", "runs", ["status", "created_at", "id"])
    op.create_index("ix_runs_owner_status", "runs", ["user_id", "status"])
    op.create_index("ix_runs_chat_id", "runs", ["chat_id"])
    op.create_index(
        "uq_runs_owner_idempotency_key", "runs", ["user_id", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_table("runs")
