"""Variants and repairs on jobs: the job a variant was made from (``variant_of``, set to
null when that job is deleted), the parameter values it changed, and the repair loop's
attempts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("variant_of", sa.Uuid(), nullable=True))
        jobs.add_column(sa.Column("variant_parameters", JSON, nullable=True))
        jobs.add_column(sa.Column("repair_attempts", JSON, nullable=True))
        jobs.create_foreign_key(
            "fk_jobs_variant_of", "jobs", ["variant_of"], ["id"], ondelete="SET NULL"
        )
    # GET /jobs?variant_of= lists a job's variants oldest first.
    op.create_index("ix_jobs_variant_order", "jobs", ["variant_of", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_variant_order", table_name="jobs")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_constraint("fk_jobs_variant_of", type_="foreignkey")
        jobs.drop_column("repair_attempts")
        jobs.drop_column("variant_parameters")
        jobs.drop_column("variant_of")
