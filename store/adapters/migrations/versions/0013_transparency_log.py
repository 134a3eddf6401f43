"""trace codes, key commitments and the transparency log

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:00:00

Keys imported before hold no trace code, salt or commitment (NULL), and their events no log
entry: a migration cannot decrypt a key to commit to it. `backfill_provenance` (run at start-up
and by `python -m bot trace backfill`) gives them theirs, so nothing loses its history. The
downgrade drops the columns and the checkpoints.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("card_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_code", sa.String(14), nullable=True))
        batch_op.add_column(sa.Column("trace_salt", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("key_commitment", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("log_head", sa.String(64), nullable=True))
        batch_op.create_index("ix_card_keys_trace_code", ["trace_code"], unique=True)
    with op.batch_alter_table("card_key_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("leaf_hash", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_card_key_events_seq", ["seq"], unique=True)
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tlog_checkpoints")
    with op.batch_alter_table("card_key_events", schema=None) as batch_op:
        batch_op.drop_index("ix_card_key_events_seq")
        for name in ("seq", "leaf_hash", "entry"):
            batch_op.drop_column(name)
    with op.batch_alter_table("card_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_card_keys_trace_code")
        for name in ("log_head", "key_commitment", "trace_salt", "trace_code"):
            batch_op.drop_column(name)
