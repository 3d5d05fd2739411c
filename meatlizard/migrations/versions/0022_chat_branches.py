"""chat history as a tree: every answer version and edited prompt kept, the shown branch remembered

Revision ID: 0022
Revises: 0016
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_chat_messages_parent_id", ["parent_id"])
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_leaf_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("title_auto", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Existing conversations are one straight line: each message follows the one before it.
    op.execute(
        "UPDATE chat_messages SET parent_id = (SELECT MAX(m.id) FROM chat_messages m "
        "WHERE m.session_id = chat_messages.session_id AND m.id < chat_messages.id)"
    )
    op.execute(
        "UPDATE chat_sessions SET current_leaf_id = (SELECT MAX(m.id) FROM chat_messages m "
        "WHERE m.session_id = chat_sessions.id)"
    )
    op.execute(
        "UPDATE chat_sessions SET title_auto = "
        + ("true" if op.get_bind().dialect.name == "postgresql" else "1")
        + " WHERE title = 'New chat'"
    )


def downgrade() -> None:
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_column("title_auto")
        batch_op.drop_column("current_leaf_id")
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_messages_parent_id")
        batch_op.drop_column("parent_id")
