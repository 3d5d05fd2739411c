"""closing holes: download limits counted in bytes served; taken-down slugs kept

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
depends_on: str | Sequence[str] | None = ("0012",)  # links.taken_down


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bytes_served", sa.BigInteger(), nullable=False, server_default="0")
        )
    # Copies already counted keep counting: each was a whole file.
    op.execute("UPDATE files SET bytes_served = download_count * size")
    op.create_table(
        "taken_down_slugs",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("taken_down_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_taken_down_slugs")),
    )
    op.execute(
        "INSERT INTO taken_down_slugs (slug, taken_down_at) "
        "SELECT slug, CURRENT_TIMESTAMP FROM links WHERE taken_down"
    )


def downgrade() -> None:
    op.drop_table("taken_down_slugs")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("bytes_served")
