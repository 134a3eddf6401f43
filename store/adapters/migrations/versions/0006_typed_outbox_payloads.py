"""outbox bodies as typed payloads (JSON), one type per kind

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00

Items not yet sent (pending, or claimed by a sender that may have crashed) are rewritten from
the bodies written before this revision ("12", "first:12,next:3", an SKU, a sentence) into the
JSON of their kind's payload; the downgrade writes the old bodies again. Sent and failed items
are history, never read again, and stay as they are. Kinds no code produced ("rate_ticket",
"reservation_expired") are marked failed. The formats are copied here, not imported: a migration
must keep meaning what it meant when it was written.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("order_id", sa.Integer()),
    sa.column("body", sa.Text()),
    sa.column("status", sa.String()),
)
UNSENT = ("pending", "sending")
_ID_FIELD = {
    "ticket_assigned": "ticket_id",
    "queue_position": "ticket_id",
    "case_decided": "case_id",
}


def payload(kind: str, body: str, order_id: int | None) -> dict[str, Any] | None:
    """The JSON payload of an item written before this revision (None: it cannot be read)."""
    try:
        match kind:
            case "delivery" | "awaiting_stock" if order_id is not None:
                return {"order_id": order_id}
            case "admin_alert":
                return {"text": body, "order_id": order_id}
            case "low_stock":
                return {"sku": body}
            case "ticket_assigned" | "queue_position" | "case_decided":
                return {_ID_FIELD[kind]: int(body)}
            case "response_breach":
                breaches = [entry.partition(":") for entry in body.split(",") if entry]
                return {
                    "breaches": [
                        {"target": target, "ticket_id": int(ticket)}
                        for target, _, ticket in breaches
                        if target in ("first", "next")
                    ]
                }
            case "refunded":
                return {"stars": int(body), "order_id": order_id}
    except ValueError:
        return None
    return None


def old_body(kind: str, data: dict[str, Any]) -> str:
    """The body an item held before this revision."""
    match kind:
        case "admin_alert":
            return str(data["text"])
        case "low_stock":
            return str(data["sku"])
        case "ticket_assigned" | "queue_position" | "case_decided":
            return str(data[_ID_FIELD[kind]])
        case "response_breach":
            return ",".join(f"{b['target']}:{b['ticket_id']}" for b in data["breaches"])[:2000]
        case "refunded":
            return str(data["stars"])
    return ""


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_outbox.c.id, _outbox.c.kind, _outbox.c.body, _outbox.c.order_id).where(
            _outbox.c.status.in_(UNSENT)
        )
    ).all()
    for row in rows:
        data = payload(row.kind, row.body, row.order_id)
        values = (
            {"status": "failed"}
            if data is None
            else {"body": json.dumps(data, ensure_ascii=False, sort_keys=True)}
        )
        bind.execute(_outbox.update().where(_outbox.c.id == row.id).values(**values))


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_outbox.c.id, _outbox.c.kind, _outbox.c.body).where(_outbox.c.status.in_(UNSENT))
    ).all()
    for row in rows:
        try:
            data = json.loads(row.body)
        except ValueError:
            continue
        if isinstance(data, dict):
            body = old_body(row.kind, data)
            bind.execute(_outbox.update().where(_outbox.c.id == row.id).values(body=body))
