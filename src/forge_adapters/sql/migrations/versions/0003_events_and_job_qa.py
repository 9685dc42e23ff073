"""Chat events (what sockets replay with ``?since=``), the pipeline's QA report and
failure reason on jobs, and a run's requirements (what its model is checked against).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "chat_events",
        sa.Column(
            "chat_id",
            sa.Uuid(),
            sa.ForeignKey("chats.id", name="fk_chat_events_chat_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Uuid(),
            sa.ForeignKey("users.id", name="fk_chat_events_user_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chat_events_user_id", "chat_events", ["user_id"])
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("qa", JSON, nullable=True))
        jobs.add_column(sa.Column("error", sa.Text(), nullable=True))
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("requirements_json", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("requirements_json")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("error")
        jobs.drop_column("qa")
    op.drop_table("chat_events")
