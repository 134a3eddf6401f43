"""agents.alias: the name buyers know an agent by, never their Telegram account's

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:00:00

Agents already on record are numbered in the order of their user ids ("01", "02", …), the
default an agent keeps until they choose an alias with /alias; the texts put "客服"/"Agent"
before it. The downgrade drops the column (relays were signed with the Telegram first name).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_agents = sa.table("agents", sa.column("user_id", sa.BigInteger()), sa.column("alias", sa.String()))


def upgrade() -> None:
    op.add_column("agents", sa.Column("alias", sa.String(32), nullable=True))
    bind = op.get_bind()
    ids = bind.execute(sa.select(_agents.c.user_id).order_by(_agents.c.user_id)).scalars().all()
    for number, user_id in enumerate(ids, start=1):
        bind.execute(
            _agents.update().where(_agents.c.user_id == user_id).values(alias=f"{number:02d}")
        )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.alter_column("alias", existing_type=sa.String(32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("alias")
