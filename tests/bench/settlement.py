"""`make bench`: the escrow settlement job over 100,000 sold keys, on a fresh SQLite file.

The keys, their orders and their escrow holds are written straight into the tables (as
100,000 wallet sales would leave them, each sale's postings included), then the job runs as of
a time after the window: it claims every hold and writes its settlement, 500 a transaction.
A second run must settle nothing (the job is idempotent), and `ledger check` must find the
books balanced. Prints the time of each and the rate.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from store.adapters.database import create_engine
from store.adapters.migration import upgrade
from store.adapters.tables import (
    batches,
    card_keys,
    categories,
    escrow_holds,
    ledger_entries,
    orders,
    products,
    users,
)
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.ledger import UNEARNED, EscrowRules, escrow, wallet
from store.services.books import check_books, settle_escrow

KEYS = 100_000
CHUNK = 5_000
PRICE, COST = 4800, 4000
SOLD_AT = datetime(2026, 11, 1, tzinfo=UTC)


async def _sold_keys(uow: UnitOfWorkFactory, count: int) -> None:
    async with uow() as tx:
        c = tx.connection
        await c.execute(insert(users).values(id=1, first_name="", created_at=SOLD_AT))
        await c.execute(
            insert(categories).values(id="game", name_zh="游戏", name_en="Games", position=0)
        )
        await c.execute(
            insert(products).values(
                sku="BENCH",
                category_id="game",
                name_zh="点卡",
                name_en="Card",
                price_minor=PRICE,
                price_stars=480,
                order_limit=10,
            )
        )
        await c.execute(
            insert(batches).values(
                id=1,
                sku="BENCH",
                source="bench",
                key_count=count,
                imported_at=SOLD_AT,
                status="live",
                supplier_id="house",
                cost_minor=COST,
            )
        )
        for start in range(1, count + 1, CHUNK):
            ids = range(start, min(start + CHUNK, count + 1))
            await c.execute(
                insert(orders),
                [
                    {
                        "id": i,
                        "user_id": 1,
                        "sku": "BENCH",
                        "quantity": 1,
                        "unit_price_minor": PRICE,
                        "total_minor": PRICE,
                        "total_stars": 480,
                        "status": "delivered",
                        "payment_method": "wallet",
                        "created_at": SOLD_AT,
                        "expires_at": SOLD_AT,
                        "paid_at": SOLD_AT,
                        "reference": f"B{i:08d}",
                    }
                    for i in ids
                ],
            )
            await c.execute(
                insert(card_keys),
                [
                    {
                        "id": i,
                        "sku": "BENCH",
                        "batch_id": 1,
                        "ciphertext": "-",
                        "fingerprint": f"{i:064x}",
                        "status": "sold",
                        "order_id": i,
                        "created_at": SOLD_AT,
                        "sold_at": SOLD_AT,
                    }
                    for i in ids
                ],
            )
            await c.execute(
                insert(escrow_holds),
                [
                    {
                        "card_key_id": i,
                        "order_id": i,
                        "supplier_id": "house",
                        "cost_minor": COST,
                        "price_minor": PRICE,
                        "held_at": SOLD_AT,
                        "status": "held",
                    }
                    for i in ids
                ],
            )
            postings = []
            for i in ids:
                for account, amount, user in (
                    (wallet(1), -PRICE, 1),
                    (escrow("house"), COST, None),
                    (UNEARNED, PRICE - COST, None),
                ):
                    postings.append(
                        {
                            "user_id": user,
                            "account": account,
                            "amount_minor": amount,
                            "reason": "purchase",
                            "idempotency_key": f"sale:{i}",
                            "order_id": i,
                            "created_at": SOLD_AT,
                        }
                    )
            await c.execute(insert(ledger_entries), postings)
        # the wallet was credited what it spent, from cash at the desk
        await c.execute(
            insert(ledger_entries),
            [
                {
                    "user_id": 1,
                    "account": wallet(1),
                    "amount_minor": PRICE * count,
                    "reason": "admin_credit",
                    "idempotency_key": "admin:bench",
                    "created_at": SOLD_AT,
                },
                {
                    "user_id": None,
                    "account": "external:cash",
                    "amount_minor": -PRICE * count,
                    "reason": "admin_credit",
                    "idempotency_key": "admin:bench",
                    "created_at": SOLD_AT,
                },
            ],
        )
        await tx.commit()


async def bench(keys: int = KEYS) -> int:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'settle.sqlite3'}")
        try:
            await upgrade(engine)
            uow = UnitOfWorkFactory(engine)
            await _sold_keys(uow, keys)
            after_window = SOLD_AT + timedelta(days=30)
            rules = EscrowRules()
            started = time.perf_counter()
            settled = await settle_escrow(uow, now=after_window, rules=rules)
            took = time.perf_counter() - started
            started = time.perf_counter()
            again = await settle_escrow(uow, now=after_window, rules=rules)
            second = time.perf_counter() - started
            started = time.perf_counter()
            problems = await check_books(uow())
            checked = time.perf_counter() - started
        finally:
            await engine.dispose()
    print("Escrow settlement (SQLite, one file)")
    print(f"  {settled:,} sold keys settled in {took:.1f} s ({settled / took:,.0f} keys/s)")
    print(f"  run again: {again} settled, in {second * 1000:.0f} ms (idempotent)")
    print(f"  ledger check over {keys * 3 + 2 + settled * 4:,} postings: {checked:.1f} s, ", end="")
    print("the books balance" if not problems else f"{len(problems)} problems: {problems[:3]}")
    return 0 if settled == keys and again == 0 and not problems else 1


def main() -> int:
    return asyncio.run(bench(int(sys.argv[1]) if len(sys.argv) > 1 else KEYS))


if __name__ == "__main__":
    sys.exit(main())
