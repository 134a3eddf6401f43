"""sealed support text: whole decision notes and questions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.alter_column("decision_note", type_=sa.Text(), existing_nullable=True)
    with op.batch_alter_table("questions") as batch_op:
        batch_op.alter_column("text", type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("questions") as batch_op:
        batch_op.alter_column("text", type_=sa.String(length=500), existing_nullable=False)
    with op.batch_alter_table("cases") as batch_op:
        batch_op.alter_column("decision_note", type_=sa.String(length=500), existing_nullable=True)
