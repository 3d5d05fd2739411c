"""transcripts: opt-in transcript records, archive state, per-user default

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("transcripts",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transcripts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("json_key", sa.String(length=255), nullable=False),
        sa.Column("csv_key", sa.String(length=255), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_transcripts_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_transcripts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
    )
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcripts_session_id"), ["session_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_transcripts_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "archive_status",
                sa.Enum(
                    "archiving",
                    "archived",
                    "failed",
                    name="archivestatus",
                    native_enum=False,
                    length=16,
                ),
                nullable=True,
            )
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transcripts_default", sa.Boolean(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("transcripts_default")
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_column("archive_status")
    with op.batch_alter_table("transcripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcripts_user_id"))
        batch_op.drop_index(batch_op.f("ix_transcripts_session_id"))
    op.drop_table("transcripts")
