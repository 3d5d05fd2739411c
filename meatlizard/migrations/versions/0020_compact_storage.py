"""compact storage: highlighted paste HTML stored compressed

Revision ID: 0020
Revises: 0016 (after 0013)
Create Date: 2026-12-02
"""

import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0013",)  # pastes.rendered

BATCH_ROWS = 200  # rows converted per statement batch, so memory stays small
LEVEL = 1  # meatlizard.pastes.models.RENDERED_COMPRESSION_LEVEL when this was written

pastes = sa.table(
    "pastes",
    sa.column("id", sa.String),
    sa.column("rendered", sa.Text),
    sa.column("rendered_z", sa.LargeBinary),
)


def _convert(forward: bool) -> None:
    """Copy each row's highlighting between the text and the compressed column."""
    bind = op.get_bind()
    source, target = (
        (pastes.c.rendered, pastes.c.rendered_z)
        if forward
        else (pastes.c.rendered_z, pastes.c.rendered)
    )
    after = ""
    while True:
        rows = bind.execute(
            sa.select(pastes.c.id, source)
            .where(source.is_not(None), pastes.c.id > after)
            .order_by(pastes.c.id)
            .limit(BATCH_ROWS)
        ).all()
        if not rows:
            return
        for paste_id, value in rows:
            new = (
                zlib.compress(value.encode(), LEVEL) if forward else zlib.decompress(value).decode()
            )
            bind.execute(pastes.update().where(pastes.c.id == paste_id).values({target: new}))
        after = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rendered_z", sa.LargeBinary(), nullable=True))
    _convert(forward=True)
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.drop_column("rendered")


def downgrade() -> None:
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rendered", sa.Text(), nullable=True))
    _convert(forward=False)
    with op.batch_alter_table("pastes", schema=None) as batch_op:
        batch_op.drop_column("rendered_z")
