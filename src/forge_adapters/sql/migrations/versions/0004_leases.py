"""Leases on runs and jobs: which replica works on an unfinished one, and until when.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("runs", "jobs"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_owner", sa.String(), nullable=True))
            batch.add_column(
                sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
            )
        op.create_index(f"ix_{table}_lease_owner", table, ["lease_owner"])
    # The pipeline claims running jobs oldest first, as the supervisor claims runs
    # (ix_runs_status_order, from 0002).
    op.create_index("ix_jobs_status_order", "jobs", ["status", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status_order", table_name="jobs")
    for table in ("jobs", "runs"):
        op.drop_index(f"ix_{table}_lease_owner", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_expires_at")
            batch.drop_column("lease_owner")
