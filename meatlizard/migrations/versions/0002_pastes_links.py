"""pastes links: pastes table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("pastes_links",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pastes",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("burn_after_read", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("delete_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_pastes_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pastes")),
    )
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pastes_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pastes_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("pastes")
