"""supplier standing: frozen stock and the sell order

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00

Keys of a suspended supplier become `frozen` and batches waiting for a deposit `waiting`: both
are new values of existing text columns, so no row changes. Claiming walks the new
(sku, status, batch_id, id) index, oldest batch first. An import offer made in chat names its
supplier (offers made before this are the house's). The downgrade drops the index and the
column; it refuses while any key is frozen or written off, or any batch waits, as the older
code would sell or lose them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_card_keys_sku_status_batch", "card_keys", ["sku", "status", "batch_id", "id"]
    )
    with op.batch_alter_table("import_offers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("supplier_id", sa.String(32), nullable=False, server_default="house")
        )


def downgrade() -> None:
    connection = op.get_bind()
    held_back = connection.execute(
        sa.text(
            "SELECT (SELECT count(*) FROM card_keys WHERE status IN ('frozen', 'written_off'))"
            " + (SELECT count(*) FROM batches WHERE status = 'waiting')"
        )
    ).scalar_one()
    if held_back:
        raise RuntimeError(
            f"{held_back} frozen or written-off keys and waiting batches: reinstate or publish "
            "them before downgrading past 0014"
        )
    with op.batch_alter_table("import_offers", schema=None) as batch_op:
        batch_op.drop_column("supplier_id")
    op.drop_index("ix_card_keys_sku_status_batch", table_name="card_keys")
