"""import_offers: a refused key file's "import the good lines" offer, kept in the database

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:10:00

An offer names the admin, the SKU and the file by its Telegram file_id (never its keys), with
when it was made, when it expires and when it was taken; every worker, and the bot after a
restart, can honour the button. Offers held in memory before this are gone (their buttons say
so). The downgrade drops the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("file_id", sa.String(255), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("acceptable", sa.Integer(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_offers")),
    )


def downgrade() -> None:
    op.drop_table("import_offers")
