"""The schema migrates up, down and up again on both databases."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from store.adapters.migration import downgrade, upgrade


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_go_up_down_and_up_again(engine: AsyncEngine) -> None:
    assert {"orders", "card_keys", "ledger_entries", "outbox", "payments"} <= await _tables(engine)
    await downgrade(engine)
    assert await _tables(engine) <= {"alembic_version"}
    await upgrade(engine)
    assert "card_keys" in await _tables(engine)
