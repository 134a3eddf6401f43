"""one double-entry ledger for all money, and escrow per sold key

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:00:00

Until now `ledger_entries` held the buyers' wallets alone, one row per movement. It becomes the
postings of one double-entry ledger (store.domain.ledger): the rows that share an idempotency
key are one transaction and sum to zero; each row names its account, and a wallet's rows keep
their user_id. Every entry written before is given its other side, by its reason: a top-up
came from Stars, an admin's credit (and any entry in words) from cash at the desk, and a
purchase or a refund was the shop's sale, booked as the shop's margin (escrow did not exist
yet, so nothing of those sales is held for a supplier). The downgrade deletes the other sides
and the escrow table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_entries = sa.table(
    "ledger_entries",
    sa.column("id", sa.Integer()),
    sa.column("user_id", sa.BigInteger()),
    sa.column("amount_minor", sa.BigInteger()),
    sa.column("reason", sa.String()),
    sa.column("idempotency_key", sa.String()),
    sa.column("order_id", sa.Integer()),
    sa.column("stars", sa.Integer()),
    sa.column("note", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("account", sa.String()),
)

_OTHER_SIDE = {
    "topup": "external:stars",
    "admin_credit": "external:cash",
    "legacy": "external:cash",
}
_SALES = "shop:margin"


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.add_column(sa.Column("account", sa.String(48), nullable=True))
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.drop_constraint("uq_ledger_entries_idempotency_key", type_="unique")
    bind = op.get_bind()
    bind.execute(
        _entries.update().values(
            account=sa.literal("wallet:") + sa.cast(_entries.c.user_id, sa.String())
        )
    )
    rows = bind.execute(
        sa.select(
            _entries.c.amount_minor,
            _entries.c.reason,
            _entries.c.idempotency_key,
            _entries.c.order_id,
            _entries.c.created_at,
        ).order_by(_entries.c.id)
    ).all()
    other_sides = [
        {
            "user_id": None,
            "amount_minor": -r.amount_minor,
            "reason": r.reason,
            "idempotency_key": r.idempotency_key,
            "order_id": r.order_id,
            "stars": None,
            "note": None,
            "created_at": r.created_at,
            "account": _OTHER_SIDE.get(r.reason, _SALES),
        }
        for r in rows
    ]
    if other_sides:
        op.bulk_insert(_entries, other_sides)
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.alter_column("account", existing_type=sa.String(48), nullable=False)
        batch_op.create_unique_constraint(
            "uq_ledger_entries_posting", ["idempotency_key", "account"]
        )
        batch_op.create_index("ix_ledger_entries_account", ["account", "id"])
    op.create_table(
        "escrow_holds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "card_key_id",
            sa.Integer(),
            sa.ForeignKey("card_keys.id", name="fk_escrow_holds_card_key_id_card_keys"),
            nullable=False,
        ),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("orders.id", name="fk_escrow_holds_order_id_orders"),
            nullable=False,
        ),
        sa.Column(
            "supplier_id",
            sa.String(32),
            sa.ForeignKey("suppliers.id", name="fk_escrow_holds_supplier_id_suppliers"),
            nullable=False,
        ),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_escrow_holds_due", "escrow_holds", ["status", "held_at"])
    op.create_index("ix_escrow_holds_order", "escrow_holds", ["order_id"])
    op.create_index("ix_escrow_holds_supplier", "escrow_holds", ["supplier_id", "id"])


def downgrade() -> None:
    op.drop_table("escrow_holds")
    op.get_bind().execute(_entries.delete().where(_entries.c.user_id.is_(None)))
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.drop_index("ix_ledger_entries_account")
        batch_op.drop_constraint("uq_ledger_entries_posting", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_entries_idempotency_key", ["idempotency_key"])
        batch_op.alter_column("user_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("case_id")
        batch_op.drop_column("account")
