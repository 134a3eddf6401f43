"""batches: the supplier's cost per key, the authorisation document's hash, the manifest

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:10:00

Batches imported before hold none of these (NULL): their cost was never recorded and no
manifest was taken; their keys keep their history. The downgrade drops the columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("proof_sha256", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("manifest_sha256", sa.String(64), nullable=True))
        batch_op.add_column(
            sa.Column("manifest_signed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        for name in ("manifest_signed", "manifest_sha256", "proof_sha256", "cost_minor"):
            batch_op.drop_column(name)
