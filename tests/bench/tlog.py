"""`make bench`: the transparency log. Events appended per second (with and without the log),
receipt generation and verification, signing and `trace audit` over a 1,000,000-entry log, and
the purchase benchmark with the log and without it, in the same run.

The big log is written straight into a migrated SQLite file with stdlib sqlite3 (250,000 keys of
four events each, linked and hashed as the repository writes them), so generating it is fast.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.app import open_database
from config.settings import Settings, load_settings
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.repositories.card_key import SqlCardKeyRepository
from store.adapters.tables import card_key_events
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import BatchStatus
from store.domain.provenance import (
    LoggedKey,
    entry_leaf,
    key_commitment,
    log_entry,
    new_trace_code,
    verify_receipt,
)
from store.domain.signed_note import Signer
from store.services.provenance import audit_log, receipt_for, sign_checkpoint
from tests.bench.purchases import SECRET, _through_conversation
from tests.conftest import FakeClock
from tests.factories import stocked_shop

ORIGIN = "kamibot.bench/log"
SIGNER = Signer(ORIGIN, bytes(range(32)))
BIG = 1_000_000
EVENTS_PER_KEY = 4
APPEND_ORDERS = 2_000
PURCHASE_ROUNDS = 3
PURCHASE_LEVEL = (10, 1_000)


@contextmanager
def log_switched_off() -> Iterator[None]:
    """The repository as it was before the log: history rows only, no entries, no heads."""
    logged, recorded = SqlCardKeyRepository._log, SqlCardKeyRepository._record

    async def plain_log(
        self: SqlCardKeyRepository,
        keys: Sequence[LoggedKey],
        event: str,
        order_id: int | None,
        now: datetime,
        *,
        going_on_sale: bool = False,
    ) -> None:
        if going_on_sale:
            await logged(self, keys, event, order_id, now, going_on_sale=True)
        elif keys:
            rows = [
                {"card_key_id": k.id, "event": event, "order_id": order_id, "at": now} for k in keys
            ]
            await self._c.execute(insert(card_key_events), rows)

    async def plain_record(
        self: SqlCardKeyRepository,
        ids: Iterable[int],
        event: str,
        order_id: int | None,
        now: datetime,
    ) -> None:
        rows = [{"card_key_id": i, "event": event, "order_id": order_id, "at": now} for i in ids]
        if rows:
            await self._c.execute(insert(card_key_events), rows)

    SqlCardKeyRepository._log = plain_log  # type: ignore[method-assign]  # the bench's A/B switch
    SqlCardKeyRepository._record = plain_record  # type: ignore[method-assign]  # the same switch
    try:
        yield
    finally:
        SqlCardKeyRepository._log = logged  # type: ignore[method-assign]  # put back
        SqlCardKeyRepository._record = recorded  # type: ignore[method-assign]  # put back


def _settings(database: Path) -> Settings:
    return load_settings(
        {}, env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{database}", CARD_KEY_SECRET=SECRET
    )


async def events_per_second(database: Path) -> float:
    """Reserve, sell and reveal one key per order, one transaction each: three events a time."""
    engine = await open_database(_settings(database))
    uow = UnitOfWorkFactory(engine)
    clock = FakeClock(datetime.now(UTC))
    try:
        await stocked_shop(uow, CardKeyCipher([SECRET]), clock, stock=APPEND_ORDERS)
        async with uow() as tx:
            await tx.users.ensure(1, "bench", clock.now())
            order_ids = [
                await tx.orders.add(
                    user_id=1,
                    sku="STEAM-50",
                    quantity=1,
                    unit_price_minor=1,
                    total_minor=1,
                    total_stars=1,
                    created_at=clock.now(),
                    expires_at=clock.now() + timedelta(hours=1),
                )
                for _ in range(APPEND_ORDERS)
            ]
            await tx.commit()
        started = time.perf_counter()
        for order_id in order_ids:
            async with uow() as tx:
                await tx.card_keys.claim("STEAM-50", order_id, 1, clock.now())
                await tx.card_keys.sell(order_id, clock.now())
                await tx.card_keys.record_reveal(order_id, clock.now())
                await tx.commit()
        return 3 * len(order_ids) / (time.perf_counter() - started)
    finally:
        await engine.dispose()


def write_big_log(database: Path, size: int) -> str:
    """`size` linked entries of `size // 4` keys, written straight into the file; a trace code."""
    asyncio.run(_migrated_with_catalog(database))
    at = datetime(2026, 12, 1, tzinfo=UTC)
    keys, events = [], []
    seq = 0
    code = ""
    for key_id in range(1, size // EVENTS_PER_KEY + 1):
        salt = f"{key_id:032x}"
        code = new_trace_code()
        commitment = key_commitment(salt, f"BIG-{key_id}")
        head = None
        for event in ("imported", "reserved", "released", "revealed"):
            key = LoggedKey(key_id, code, salt, commitment, head, "STEAM-50", 1)
            moment = at + timedelta(seconds=seq)
            entry = log_entry(key, event, None, moment)
            head = entry_leaf(entry)
            events.append((seq + 1, key_id, event, moment.isoformat(sep=" "), entry, head, seq))
            seq += 1
        keys.append(
            (
                key_id,
                "STEAM-50",
                1,
                "x",
                f"fp{key_id}",
                "available",
                at.isoformat(sep=" "),
                code,
                salt,
                commitment,
                head,
            )
        )
    with closing(sqlite3.connect(database, isolation_level=None)) as connection:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO card_keys (id, sku, batch_id, ciphertext, fingerprint, status,"
            " created_at, trace_code, trace_salt, key_commitment, log_head)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            keys,
        )
        connection.executemany(
            "INSERT INTO card_key_events (id, card_key_id, event, at, entry, leaf_hash, seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        connection.execute("COMMIT")
    return code


async def _migrated_with_catalog(database: Path) -> None:
    engine = await open_database(_settings(database))
    uow = UnitOfWorkFactory(engine)
    try:
        await stocked_shop(uow, CardKeyCipher([SECRET]), FakeClock(), stock=0)
        async with uow() as tx:
            await tx.card_keys.start_batch("STEAM-50", "bench", 0, None, datetime.now(UTC))
            await tx.card_keys.set_batch_status(1, BatchStatus.LIVE, datetime.now(UTC))
            await tx.commit()
    finally:
        await engine.dispose()


async def big_log_figures(database: Path, code: str) -> dict[str, float]:
    engine = await open_database(_settings(database))
    uow = UnitOfWorkFactory(engine)
    now = datetime.now(UTC)
    figures: dict[str, float] = {}
    try:
        started = time.perf_counter()
        await sign_checkpoint(uow, SIGNER, ORIGIN, now)
        figures["sign_s"] = time.perf_counter() - started
        started = time.perf_counter()
        receipt = await receipt_for(uow, code=code, signer=SIGNER, origin=ORIGIN, now=now)
        figures["receipt_s"] = time.perf_counter() - started
        assert receipt is not None
        started = time.perf_counter()
        for _ in range(100):
            verify_receipt(receipt, SIGNER.verifier)
        figures["verify_ms"] = (time.perf_counter() - started) * 10
        started = time.perf_counter()
        report = await audit_log(uow, SIGNER.verifier)
        figures["audit_s"] = time.perf_counter() - started
        assert report.size == BIG and not report.anomalies, report.anomalies[:3]
    finally:
        await engine.dispose()
    return figures


def purchases_per_second(folder: Path, name: str) -> float:
    buyers, purchases = PURCHASE_LEVEL
    conversation, check = asyncio.run(
        _through_conversation(folder / f"{name}.sqlite3", buyers, purchases)
    )
    assert check.ok and not conversation.failed
    return conversation.timed.per_second


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kamibot-bench-tlog-") as temp:
        folder = Path(temp)
        with_log = asyncio.run(events_per_second(folder / "append-on.sqlite3"))
        with log_switched_off():
            without = asyncio.run(events_per_second(folder / "append-off.sqlite3"))
        print(f"events appended: {with_log:,.0f}/s with the log, {without:,.0f}/s without")
        started = time.perf_counter()
        code = write_big_log(folder / "big.sqlite3", BIG)
        print(f"generated {BIG:,} entries in {time.perf_counter() - started:.1f}s")
        figures = asyncio.run(big_log_figures(folder / "big.sqlite3", code))
        print(f"first checkpoint over {BIG:,} entries: {figures['sign_s']:.2f}s")
        print(f"receipt for one key in {BIG:,}: {figures['receipt_s']:.2f}s")
        print(f"receipt verification (offline): {figures['verify_ms']:.2f}ms")
        print(f"trace audit of {BIG:,} entries: {figures['audit_s']:.1f}s")
        on, off = [], []
        for round_ in range(PURCHASE_ROUNDS):  # interleaved, so drift hits both alike
            on.append(purchases_per_second(folder, f"on-{round_}"))
            with log_switched_off():
                off.append(purchases_per_second(folder, f"off-{round_}"))
        slower = 1 - statistics.median(on) / statistics.median(off)
        buyers, purchases = PURCHASE_LEVEL
        print(
            f"purchases ({buyers} buyers, {purchases} each round, median of {PURCHASE_ROUNDS}): "
            f"{statistics.median(on):.1f}/s with the log, {statistics.median(off):.1f}/s "
            f"without: {slower:+.1%} slower (target at most 10%)"
        )
        print(
            f"  rounds with: {', '.join(f'{x:.1f}' for x in on)}; without: "
            f"{', '.join(f'{x:.1f}' for x in off)}"
        )
    return 0 if slower <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
