"""Traditional Chinese catalog texts: categories' and products' optional zh-Hant columns

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:00:00

Each column starts empty: a text the operator has not written in Traditional Chinese is shown
as the Simplified one in Traditional characters (store.domain.language.localized), so nothing
loaded before reads differently to Simplified Chinese and English buyers. Users' language
column already holds "zh-hant" (eight characters at most). The downgrade drops the columns;
a user who chose Traditional Chinese then reads Simplified, the nearest language left.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = {
    "categories": (("name_zh_hant", sa.String(64)),),
    "products": (
        ("name_zh_hant", sa.String(64)),
        ("description_zh_hant", sa.Text()),
        ("redeem_zh_hant", sa.Text()),
    ),
}
_users = sa.table("users", sa.column("language", sa.String()))


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, kind in columns:
                batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=""))


def downgrade() -> None:
    op.get_bind().execute(
        _users.update().where(_users.c.language == "zh-hant").values(language="zh")
    )
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in columns:
                batch_op.drop_column(name)
