"""The outbox's typed payloads as stored: read back into their type, or refused, never guessed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.adapters.migration import downgrade, upgrade
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.outbox import (
    AdminAlert,
    AwaitingStock,
    CaseDecided,
    Delivery,
    LowStock,
    OutboxPayload,
    QueuePosition,
    Refunded,
    ResponseBreach,
    TicketAssigned,
)
from store.domain.support import Breach, ResponseTarget
from store.services.outbox import claim_outbox
from tests.conftest import FakeClock

NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def _insert(engine: AsyncEngine, rows: list[tuple[str, int | None, str]]) -> None:
    """Outbox rows as they are in the table (kind, order_id, body), waiting to be sent."""
    async with engine.begin() as connection:
        for n, (kind, order_id, body) in enumerate(rows):
            await connection.execute(
                text(
                    "INSERT INTO outbox (kind, chat_id, order_id, body, dedupe_key, status,"
                    " attempts, created_at) VALUES (:kind, 1001, :order, :body, :key,"
                    " 'pending', 0, :now)"
                ),
                {"kind": kind, "order": order_id, "body": body, "key": f"k{n}", "now": NOW},
            )


async def _statuses(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT status FROM outbox ORDER BY id"))
        return [row.status for row in rows]


async def test_every_payload_is_read_back_as_it_was_written(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    payloads: list[OutboxPayload] = [
        Delivery(7),
        AwaitingStock(8),
        AdminAlert("Order #7: <no stock> & “quotes”", 7),
        LowStock("STEAM-50"),
        TicketAssigned(3),
        QueuePosition(4),
        ResponseBreach((Breach(3, ResponseTarget.FIRST), Breach(4, ResponseTarget.NEXT))),
        CaseDecided(5),
        Refunded(480, None),
    ]
    async with uow() as tx:
        for n, payload in enumerate(payloads):
            await tx.outbox.add(payload, 1001, f"k{n}", clock.now())
        await tx.commit()
    assert [item.payload for item in await claim_outbox(uow(), now=clock.now())] == payloads


async def test_an_item_whose_body_does_not_parse_is_refused_and_never_sent(
    engine: AsyncEngine, uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await _insert(
        engine,
        [
            ("ticket_assigned", None, "12"),  # not an object
            ("ticket_assigned", None, '{"ticket_id": "12"}'),  # not a number
            ("queue_position", None, '{"ticket_id": 4, "by": "forged"}'),  # a field it has not
            ("rate_ticket", None, '{"ticket_id": 4}'),  # a kind no code sends
            ("case_decided", None, '{"case_id": 5}'),
        ],
    )
    [item] = await claim_outbox(uow(), now=clock.now())
    assert item.payload == CaseDecided(5)
    assert await _statuses(engine) == ["failed", "failed", "failed", "failed", "sending"]


async def test_items_waiting_when_payloads_became_typed_are_read_after_the_upgrade(
    engine: AsyncEngine, uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await downgrade(engine, "0005")
    await _insert(
        engine,
        [
            ("delivery", 7, ""),
            ("awaiting_stock", 8, ""),
            ("admin_alert", 7, "Order #7 was paid but X has no stock for it: awaiting stock."),
            ("low_stock", None, "STEAM-50"),
            ("ticket_assigned", None, "3"),
            ("queue_position", None, "4"),
            ("response_breach", None, "first:3,next:4"),
            ("case_decided", None, "5"),
            ("refunded", 9, "480"),
            ("reservation_expired", 9, ""),  # a kind no code sent: refused
        ],
    )
    await upgrade(engine)
    assert [item.payload for item in await claim_outbox(uow(), now=clock.now())] == [
        Delivery(7),
        AwaitingStock(8),
        AdminAlert("Order #7 was paid but X has no stock for it: awaiting stock.", 7),
        LowStock("STEAM-50"),
        TicketAssigned(3),
        QueuePosition(4),
        ResponseBreach((Breach(3, ResponseTarget.FIRST), Breach(4, ResponseTarget.NEXT))),
        CaseDecided(5),
        Refunded(480, 9),
    ]
    await downgrade(engine, "0005")
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT body FROM outbox ORDER BY id"))
        bodies = [row.body for row in rows]
    assert bodies[4:9] == ["3", "4", "first:3,next:4", "5", "480"]
    await upgrade(engine)
