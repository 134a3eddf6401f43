"""The schema migrates up, down and up again on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.adapters.migration import downgrade, upgrade
from store.adapters.repositories.ledger import SqlLedgerRepository
from store.domain.model import LedgerReason


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_go_up_down_and_up_again(engine: AsyncEngine) -> None:
    assert {"orders", "card_keys", "ledger_entries", "outbox", "payments"} <= await _tables(engine)
    await downgrade(engine)
    assert await _tables(engine) <= {"alembic_version"}
    await upgrade(engine)
    assert "card_keys" in await _tables(engine)


SENTENCES = [
    # (amount, the sentence written before 0005, order_id)
    (1000, "Top-up 100 Stars", None),
    (-4800, "Order #7", 7),
    (4800, "Refund of order #7", 7),
    (2400, "Refund of a bad key, order #8", 8),
    (500, "Admin: bank transfer, 3 May", None),
    (-100, "Order #9", None),  # a sentence that names no order of its own stays words
    (50, "goodwill, see ticket #4", None),
]


async def test_ledger_sentences_become_reason_codes_and_come_back_on_downgrade(
    engine: AsyncEngine,
) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    await downgrade(engine, "0004")
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO users (id, first_name, created_at) VALUES (1001, 'Li', :now)"),
            {"now": now},
        )
        for n, (amount, sentence, order_id) in enumerate(SENTENCES):
            await connection.execute(
                text(
                    "INSERT INTO ledger_entries (user_id, amount_minor, reason, idempotency_key,"
                    " order_id, created_at) VALUES (1001, :amount, :reason, :key, :order, :now)"
                ),
                {
                    "amount": amount,
                    "reason": sentence,
                    "key": f"k{n}",
                    "order": order_id,
                    "now": now,
                },
            )

    await upgrade(engine)
    async with engine.connect() as connection:
        entries = await SqlLedgerRepository(connection, engine.dialect.name).recent(1001, 10)
    assert [(e.reason, e.order_id, e.stars, e.note) for e in reversed(entries)] == [
        (LedgerReason.TOPUP, None, 100, None),
        (LedgerReason.PURCHASE, 7, None, None),
        (LedgerReason.REFUND, 7, None, None),
        (LedgerReason.BAD_KEY_REFUND, 8, None, None),
        (LedgerReason.ADMIN_CREDIT, None, None, "bank transfer, 3 May"),
        (LedgerReason.LEGACY, None, None, "Order #9"),
        (LedgerReason.LEGACY, None, None, "goodwill, see ticket #4"),
    ]

    await downgrade(engine, "0004")
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT reason FROM ledger_entries ORDER BY id"))
        assert [reason for (reason,) in rows] == [sentence for _, sentence, _ in SENTENCES]
    await upgrade(engine)


async def test_agents_on_record_are_numbered_as_their_alias_and_the_column_goes_on_downgrade(
    engine: AsyncEngine,
) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    await downgrade(engine, "0006")
    async with engine.begin() as connection:
        for user_id, name in ((902, "Bo"), (900, "Mei")):
            await connection.execute(
                text(
                    "INSERT INTO agents (user_id, display_name, on_duty, capacity,"
                    " duty_changed_at) VALUES (:id, :name, false, 3, :now)"
                ),
                {"id": user_id, "name": name, "now": now},
            )
    await upgrade(engine)
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT user_id, alias FROM agents ORDER BY user_id"))
        assert [tuple(row) for row in rows] == [(900, "01"), (902, "02")]
    await downgrade(engine, "0006")
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("agents")}
        )
    assert "alias" not in columns and "display_name" in columns
    await upgrade(engine)
