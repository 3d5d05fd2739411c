"""pastes extra: zero-knowledge (browser-encrypted) pastes

Revision ID: 0011
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = ("pastes_extra",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("encrypted", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.drop_column("encrypted")
