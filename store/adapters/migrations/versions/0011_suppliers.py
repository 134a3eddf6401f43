"""suppliers and their standing; every batch names its supplier

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:00:00

Stock imported before suppliers were recorded is the house's ("house", the shop's own stock):
nothing already imported loses its history, and the house answers for it as any supplier does.
The downgrade drops the supplier column and the tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_suppliers = sa.table(
    "suppliers",
    sa.column("id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("public_name", sa.String()),
    sa.column("contact", sa.String()),
    sa.column("status", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_events = sa.table(
    "supplier_events",
    sa.column("supplier_id", sa.String()),
    sa.column("status", sa.String()),
    sa.column("reason", sa.Text()),
    sa.column("actor", sa.String()),
    sa.column("at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("public_name", sa.String(64), nullable=False),
        sa.Column("contact", sa.String(128), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "supplier_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "supplier_id",
            sa.String(32),
            sa.ForeignKey("suppliers.id", name="fk_supplier_events_supplier_id_suppliers"),
            nullable=False,
        ),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_supplier_events_supplier", "supplier_events", ["supplier_id", "id"])
    now = datetime.now(UTC)
    op.bulk_insert(
        _suppliers,
        [
            {
                "id": "house",
                "name": "House stock",
                "public_name": "本店自营 / the shop's own stock",
                "contact": "",
                "status": "active",
                "created_at": now,
            }
        ],
    )
    op.bulk_insert(
        _events,
        [
            {
                "supplier_id": "house",
                "status": "active",
                "reason": "stock imported before suppliers were recorded",
                "actor": "migration 0011",
                "at": now,
            }
        ],
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("supplier_id", sa.String(32), nullable=False, server_default="house")
        )
        batch_op.create_foreign_key(
            "fk_batches_supplier_id_suppliers", "suppliers", ["supplier_id"], ["id"]
        )
        batch_op.create_index("ix_batches_supplier", ["supplier_id"])


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_supplier")
        batch_op.drop_constraint("fk_batches_supplier_id_suppliers", type_="foreignkey")
        batch_op.drop_column("supplier_id")
    op.drop_index("ix_supplier_events_supplier", table_name="supplier_events")
    op.drop_table("supplier_events")
    op.drop_table("suppliers")
