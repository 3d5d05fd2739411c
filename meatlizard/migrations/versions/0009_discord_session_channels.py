"""discord: the private channel of each Discord chat session

Revision ID: 0009
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("discord",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discord_session_channels",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("guild_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_discord_session_channels_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_discord_session_channels")),
    )
    with op.batch_alter_table("discord_session_channels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_discord_session_channels_channel_id"), ["channel_id"], unique=True
        )


def downgrade() -> None:
    op.drop_table("discord_session_channels")
