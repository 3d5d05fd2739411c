"""closing holes: download limits counted in bytes served

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bytes_served", sa.BigInteger(), nullable=False, server_default="0")
        )
    # Copies already counted keep counting: each was a whole file.
    op.execute("UPDATE files SET bytes_served = download_count * size")


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("bytes_served")
