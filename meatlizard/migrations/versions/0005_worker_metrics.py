"""worker metrics: client-bot metrics snapshots

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("worker_metrics",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_online", sa.Boolean(), nullable=False),
        sa.Column("busy", sa.Boolean(), nullable=False),
        sa.Column("tokens_per_second", sa.Float(), nullable=False),
        sa.Column("gpu_utilization", sa.Float(), nullable=True),
        sa.Column("gpu_memory_free", sa.Float(), nullable=True),
        sa.Column("gpu_memory_used", sa.Float(), nullable=True),
        sa.Column("gpu_temperature", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_metrics")),
    )
    with op.batch_alter_table("worker_metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_metrics_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_worker_metrics_worker_id"), ["worker_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("worker_metrics")
