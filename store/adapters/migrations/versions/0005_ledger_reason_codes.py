"""ledger reasons as codes with parameters, said in the buyer's language by the wallet screen

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00

Entries written before this revision hold an English sentence ("Refund of order #2"). The
upgrade reads the sentences the services wrote back into a code and its parameters; a sentence it
does not recognise is kept whole as the entry's note (code `legacy`), so it still reads as before.
The downgrade writes the sentences again. The rules are copied here, not imported: a migration
must keep meaning what it meant when it was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 1000
_entries = sa.table(
    "ledger_entries",
    sa.column("id", sa.Integer()),
    sa.column("reason", sa.String()),
    sa.column("order_id", sa.Integer()),
    sa.column("stars", sa.Integer()),
    sa.column("note", sa.String()),
)
_ORDER_SENTENCES = {
    "purchase": re.compile(r"Order #(\d+)"),
    "refund": re.compile(r"Refund of order #(\d+)"),
    "bad_key_refund": re.compile(r"Refund of a bad key, order #(\d+)"),
}
_TOPUP = re.compile(r"Top-up (\d+) Stars")
_ADMIN = re.compile(r"Admin: (.+)", re.DOTALL)


def coded(text: str, order_id: int | None) -> dict[str, Any]:
    """The code and parameters of a sentence written before this revision."""
    if topup := _TOPUP.fullmatch(text):
        return {"reason": "topup", "stars": int(topup[1]), "note": None}
    if admin := _ADMIN.fullmatch(text):
        return {"reason": "admin_credit", "stars": None, "note": admin[1]}
    for code, pattern in _ORDER_SENTENCES.items():
        found = pattern.fullmatch(text)
        if found and order_id is not None and int(found[1]) == order_id:
            return {"reason": code, "stars": None, "note": None}
    return {"reason": "legacy", "stars": None, "note": text}


def sentence(reason: str, order_id: int | None, stars: int | None, note: str | None) -> str:
    """The English sentence an entry held before this revision."""
    match reason:
        case "topup":
            text = f"Top-up {stars} Stars"
        case "purchase":
            text = f"Order #{order_id}"
        case "refund":
            text = f"Refund of order #{order_id}"
        case "bad_key_refund":
            text = f"Refund of a bad key, order #{order_id}"
        case "admin_credit":
            text = f"Admin: {note}"
        case _:
            text = note or reason
    return text[:255]


def _rows(bind: sa.Connection, *columns: str) -> Iterator[list[sa.Row[Any]]]:
    """Every entry, a batch at a time, in id order."""
    last = 0
    selected = [_entries.c.id, *(_entries.c[name] for name in columns)]
    while True:
        rows = bind.execute(
            sa.select(*selected).where(_entries.c.id > last).order_by(_entries.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.add_column(sa.Column("stars", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(length=255), nullable=True))
    bind = op.get_bind()
    update = (
        _entries.update()
        .where(_entries.c.id == sa.bindparam("row_id"))
        .values(
            reason=sa.bindparam("new_reason"),
            stars=sa.bindparam("new_stars"),
            note=sa.bindparam("new_note"),
        )
    )
    for rows in _rows(bind, "reason", "order_id"):
        coded_rows = [(row.id, coded(row.reason, row.order_id)) for row in rows]
        bind.execute(
            update,
            [
                {"row_id": row_id, **{f"new_{name}": value for name, value in values.items()}}
                for row_id, values in coded_rows
            ],
        )
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.alter_column(
            "reason",
            type_=sa.String(length=16),
            existing_type=sa.String(length=255),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.alter_column(
            "reason",
            type_=sa.String(length=255),
            existing_type=sa.String(length=16),
            existing_nullable=False,
        )
    bind = op.get_bind()
    update = (
        _entries.update()
        .where(_entries.c.id == sa.bindparam("row_id"))
        .values(reason=sa.bindparam("old_reason"))
    )
    for rows in _rows(bind, "reason", "order_id", "stars", "note"):
        bind.execute(
            update,
            [
                {"row_id": r.id, "old_reason": sentence(r.reason, r.order_id, r.stars, r.note)}
                for r in rows
            ],
        )
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("stars")
