"""paste render: highlighted HTML stored at creation, keyed by a content version

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = ("paste_render",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rendered", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rendered_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.drop_column("rendered_version")
        batch_op.drop_column("rendered")
