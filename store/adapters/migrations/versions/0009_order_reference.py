"""orders.reference: the random name buyers and agents know an order by, never its id

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:30:00

Orders already on record are given a fresh random reference each, unique among them and
written as store.domain.reference writes them, before the column becomes required and unique.
The downgrade drops it (texts named orders by their id again).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A copy of store.domain.reference as it stands: a migration must not change with the code.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def _new_reference() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


_orders = sa.table("orders", sa.column("id", sa.Integer()), sa.column("reference", sa.String()))


def upgrade() -> None:
    op.add_column("orders", sa.Column("reference", sa.String(9), nullable=True))
    bind = op.get_bind()
    ids = bind.execute(sa.select(_orders.c.id).order_by(_orders.c.id)).scalars().all()
    given: set[str] = set()
    for order_id in ids:
        reference = _new_reference()
        while reference in given:
            reference = _new_reference()
        given.add(reference)
        bind.execute(_orders.update().where(_orders.c.id == order_id).values(reference=reference))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(9), nullable=False)
        batch_op.create_index("ix_orders_reference", ["reference"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_reference")
        batch_op.drop_column("reference")
