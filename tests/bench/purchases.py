"""`make bench`: purchases through the conversation layer, next to a raw sqlite3 floor.

For 1, 10 and 100 concurrent buyers, each level on fresh SQLite files in a temp dir: purchases
per second and p50/p99 latency of one purchase (four events through `dispatch`), the same key
allocation as a synchronous stdlib sqlite3 loop, their ratio, and a check that no key sold twice.
Exit status: 0 all well, 1 the sold-once check failed, 2 some buyers saw an error (none sold twice).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bot.app import PortRefunder, build_context, open_database
from bot.sender import OutgoingSender
from config.settings import Settings, load_settings
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.clock import SystemClock
from store.services.ports import KeyCipher, NewUnitOfWork
from tests.bench.buyer import STEPS, run_buyers
from tests.bench.handler_errors import counted_handler_errors
from tests.bench.latency import TimedRun
from tests.bench.raw_sqlite import add_users, allocate, connect
from tests.bench.sold_once import SoldOnce, check_sold_once
from tests.conftest import FakeClock
from tests.factories import stocked_shop

LEVELS = ((1, 200), (10, 1_000), (100, 1_000))
"""(concurrent buyers, timed purchases)."""
WARMUP = 20
"""Untimed purchases before each timed run (conversation: at least one per buyer)."""
SKU = "BENCH-KEY"
PRICE_MINOR = 4_800
STARS = 480
SECRET = "kamibot benchmark passphrase that is not a real secret"
FIRST_USER = 700_000_001
ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "bench-purchases.json"
EXIT_STATUS = {"ok": 0, "sold-once-check-failed": 1, "buyers-saw-errors": 2}


@dataclass(frozen=True)
class Conversation:
    timed: TimedRun
    tried: int
    failed: int
    """Timed purchases where the buyer saw an error."""
    warm_up_failed: int
    failed_steps: Counter[str] = field(default_factory=Counter)
    """Where failed purchases (warm-up included) stopped."""
    failed_examples: dict[str, str] = field(default_factory=dict)
    """What the buyer saw, the first time a purchase failed at each step."""
    failed_longest_s: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    """What the router's error handler logged (warm-up included)."""


@dataclass(frozen=True)
class Level:
    buyers: int
    conversation: Conversation
    conversation_check: SoldOnce
    raw: TimedRun
    raw_check: SoldOnce

    @property
    def ratio(self) -> float:
        """How many times more purchases per second the raw loop made (nan if none completed)."""
        conversation = self.conversation.timed.per_second
        return self.raw.per_second / conversation if conversation else math.nan

    @property
    def sold_once(self) -> bool:
        return self.conversation_check.ok and self.raw_check.ok

    @property
    def all_completed(self) -> bool:
        return self.conversation.failed == self.conversation.warm_up_failed == 0


def _settings(database: Path, purchases: int) -> Settings:
    return load_settings(
        {},
        env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        CARD_KEY_SECRET=SECRET,
        MAX_OPEN_RESERVATIONS=purchases + WARMUP,  # never the limit being measured
    )


def _user_ids(buyers: int) -> range:
    return range(FIRST_USER, FIRST_USER + buyers)


def _stock_for(purchases: int) -> int:
    """Enough keys that the run never finds stock low, even if failed purchases keep keys held."""
    return purchases + purchases // 4 + 10


async def _stock(uow: NewUnitOfWork, cipher: KeyCipher, keys: int) -> list[str]:
    clock = FakeClock(datetime.now(UTC))
    return await stocked_shop(
        uow, cipher, clock, sku=SKU, stock=keys, price_minor=PRICE_MINOR, price_stars=STARS
    )


async def _through_conversation(
    database: Path, buyers: int, purchases: int
) -> tuple[Conversation, SoldOnce]:
    """Buyers as tasks on one loop, with a ShopContext built as the composition root builds it."""
    settings = _settings(database, purchases)
    engine = await open_database(settings)
    warm_up = max(WARMUP, buyers)
    try:
        # A PortRefunder that no runtime has attached refuses every refund; no purchase asks.
        refunder = PortRefunder(OutgoingSender())
        ctx = build_context(settings, engine, clock=SystemClock(), refunder=refunder)
        stocked = await _stock(ctx.uow, ctx.cipher, _stock_for(warm_up + purchases))
        users = _user_ids(buyers)
        with counted_handler_errors() as errors:
            warm = await run_buyers(ctx, user_ids=users, purchases=warm_up, sku=SKU, stars=STARS)
            timed = await run_buyers(ctx, user_ids=users, purchases=purchases, sku=SKU, stars=STARS)
    finally:
        await engine.dispose()
    completed = [*warm.completed, *timed.completed]
    failed = [*warm.failed, *timed.failed]
    conversation = Conversation(
        timed=timed.timed,
        tried=timed.attempted,
        failed=len(timed.failed),
        warm_up_failed=len(warm.failed),
        failed_steps=Counter(error.step for error in failed),
        failed_examples={error.step: str(error) for error in reversed(failed)},
        failed_longest_s=max((error.seconds for error in failed), default=0.0),
        errors=errors.reasons,
    )
    check = check_sold_once(
        database,
        at_least=len(completed),
        at_most=warm.attempted + timed.attempted,
        shown=[p.key for p in completed],
        stocked=stocked,
    )
    return conversation, check


async def _stocked_file(database: Path, keys: int) -> None:
    """The shop's schema and stock for the raw loop; the engine is gone when this returns."""
    engine = await open_database(_settings(database, 0))
    try:
        await _stock(UnitOfWorkFactory(engine), CardKeyCipher([SECRET]), keys)
    finally:
        await engine.dispose()


def _raw(database: Path, buyers: int, purchases: int) -> tuple[TimedRun, SoldOnce]:
    asyncio.run(_stocked_file(database, _stock_for(WARMUP + purchases)))
    users = _user_ids(buyers)
    with closing(connect(database)) as connection:
        add_users(connection, users)
        product = (SKU, PRICE_MINOR, STARS)
        allocate(connection, *product, user_ids=users, purchases=WARMUP)
        timed = allocate(connection, *product, user_ids=users, purchases=purchases)
    total = WARMUP + purchases
    return timed, check_sold_once(database, at_least=total, at_most=total)


def run_level(folder: Path, buyers: int, purchases: int) -> Level:
    folder.mkdir()
    conversation, conversation_check = asyncio.run(
        _through_conversation(folder / "conversation.sqlite3", buyers, purchases)
    )
    raw, raw_check = _raw(folder / "raw.sqlite3", buyers, purchases)
    return Level(buyers, conversation, conversation_check, raw, raw_check)


def machine() -> dict[str, object]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "platform": platform.platform(),
        "sqlalchemy": version("sqlalchemy"),
        "aiosqlite": version("aiosqlite"),
    }


def table(levels: Sequence[Level]) -> list[str]:
    head = (
        f"{'buyers':>6} {'tried':>6} {'failed':>6} | {'per s':>7} {'p50 ms':>8} {'p99 ms':>9} | "
        f"{'per s':>8} {'p50 ms':>8} {'p99 ms':>8} | {'raw/conv':>8} | sold once"
    )
    lines = [
        f"{'':20}| {'conversation (4 dispatches)':^27} | {'raw sqlite3 (sequential)':^26} |",
        head,
        "-" * len(head),
    ]
    for level in levels:
        c, r = level.conversation, level.raw
        sold_once = "ok" if level.sold_once else "FAILED"
        lines.append(
            f"{level.buyers:>6} {c.tried:>6} {c.failed:>6} | {c.timed.per_second:>7.1f}"
            f" {c.timed.p50_ms:>8.2f} {c.timed.p99_ms:>9.2f} | {r.per_second:>8.1f}"
            f" {r.p50_ms:>8.3f} {r.p99_ms:>8.3f} | {level.ratio:>7.1f}x | {sold_once}"
        )
    lines.append("-" * len(head))
    return lines


NOTES = (
    "conversation: one purchase = press buy:<SKU>:1 -> PreCheckout order:<id> -> PaymentReceived",
    "  -> press keys:<id>, each through handlers.router.dispatch with a ShopContext from",
    "  bot.app.build_context; N buyers are N asyncio tasks (distinct user ids) on one event loop",
    "  sharing one engine. per s = completed purchases / wall time; p50/p99 = perf_counter around",
    "  the four dispatches of each completed purchase (nearest rank); failed = buyer saw an error.",
    "raw: stdlib sqlite3, its own file, same schema: BEGIN IMMEDIATE, insert order, the",
    "  repository's conditional claim UPDATE ... RETURNING id, check one row, mark sold, COMMIT.",
    "  Single-threaded: at 10 and 100 buyers it runs the same number of purchases sequentially,",
    "  one after another; the buyers only take turns owning the orders.",
    "raw/conv = raw purchases per second / conversation purchases per second.",
    f"Both sides make untimed warm-up purchases first (conversation: max({WARMUP}, buyers);"
    f" raw: {WARMUP}).",
)


def details(level: Level) -> list[str]:
    lines = [
        f"{level.buyers:>3} buyers: sold once, conversation: {level.conversation_check.describe()}",
        f"{level.buyers:>3} buyers: sold once, raw:          {level.raw_check.describe()}",
    ]
    c = level.conversation
    if c.failed or c.warm_up_failed:
        steps = ", ".join(f"{c.failed_steps[s]} at {s}" for s in STEPS if c.failed_steps[s])
        lines.append(
            f"{level.buyers:>3} buyers: buyers saw errors: {c.failed} timed + {c.warm_up_failed}"
            f" warm-up purchases failed ({steps}), the longest after {c.failed_longest_s:.1f}s"
        )
        lines += [f"      e.g. {example}" for example in c.failed_examples.values()]
        lines += [f"      logged {count} x {reason}" for reason, count in c.errors.most_common()]
    return lines


def summary_line(levels: Sequence[Level], facts: dict[str, object]) -> str:
    fields = [
        f"status={_status(levels)}",
        f"python={facts['python']}",
        f"sqlite={facts['sqlite']}",
        f"cpus={facts['cpu_count']}",
    ]
    for level in levels:
        c, r, b = level.conversation, level.raw, f"b{level.buyers}"
        fields += [
            f"{b}.tried={c.tried}",
            f"{b}.failed={c.failed}",
            f"{b}.conv_per_s={c.timed.per_second:.1f}",
            f"{b}.conv_p50_ms={c.timed.p50_ms:.2f}",
            f"{b}.conv_p99_ms={c.timed.p99_ms:.2f}",
            f"{b}.raw_per_s={r.per_second:.1f}",
            f"{b}.raw_p50_ms={r.p50_ms:.3f}",
            f"{b}.raw_p99_ms={r.p99_ms:.3f}",
            f"{b}.ratio={level.ratio:.1f}",
            f"{b}.sold_once={'ok' if level.sold_once else 'failed'}",
        ]
    return "bench-purchases " + " ".join(fields)


def _status(levels: Sequence[Level]) -> str:
    if not all(level.sold_once for level in levels):
        return "sold-once-check-failed"
    if not all(level.all_completed for level in levels):
        return "buyers-saw-errors"
    return "ok"


def report(
    levels: Sequence[Level], facts: dict[str, object], started: datetime, seconds: float
) -> dict[str, object]:
    return {
        "benchmark": "purchases",
        "started_at": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "status": _status(levels),
        "machine": facts,
        "method": {
            "database": "fresh SQLite files per level in a temp dir, migrated by"
            " store.adapters.migration.upgrade; WAL, synchronous=NORMAL",
            "conversation": "press buy -> PreCheckout -> PaymentReceived -> press keys, each"
            " through handlers.router.dispatch; buyers are asyncio tasks (distinct users)"
            " on one loop",
            "raw": "stdlib sqlite3, single-threaded: BEGIN IMMEDIATE, insert order, conditional"
            " claim UPDATE ... RETURNING id, mark sold, COMMIT; sequential at every level",
            "per_second": "completed purchases / wall time of the timed run",
            "latency": "perf_counter per completed purchase; nearest-rank percentiles",
            "ratio": "raw per_second / conversation per_second",
            "warm_up_purchases": {"conversation": f"max({WARMUP}, buyers)", "raw": WARMUP},
        },
        "levels": [
            {
                "buyers": level.buyers,
                "conversation": {
                    **level.conversation.timed.summary(),
                    "tried": level.conversation.tried,
                    "failed": level.conversation.failed,
                    "warm_up_failed": level.conversation.warm_up_failed,
                    "failed_at": dict(level.conversation.failed_steps),
                    "failed_longest_s": round(level.conversation.failed_longest_s, 3),
                    "logged_errors": dict(level.conversation.errors),
                },
                "raw": level.raw.summary(),
                "raw_over_conversation": None if math.isnan(level.ratio) else round(level.ratio, 2),
                "sold_once": {
                    "conversation": level.conversation_check.summary(),
                    "raw": level.raw_check.summary(),
                },
            }
            for level in levels
        ],
    }


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started, clock = datetime.now(UTC), time.perf_counter()
    facts = machine()
    print(f"Kamibot purchase benchmark, {started.isoformat(timespec='seconds')}")
    print(
        f"machine: {facts['implementation']} {facts['python']}, SQLite {facts['sqlite']},"
        f" {facts['cpu_count']} CPUs ({facts['cpus_usable']} usable), {facts['platform']},"
        f" SQLAlchemy {facts['sqlalchemy']}, aiosqlite {facts['aiosqlite']}"
    )
    print(
        "database: fresh SQLite files per level in a temp dir, migrated by"
        " store.adapters.migration.upgrade; WAL, synchronous=NORMAL",
        flush=True,
    )
    levels: list[Level] = []
    with tempfile.TemporaryDirectory(prefix="kamibot-bench-") as tmp:
        for buyers, purchases in LEVELS:
            began = time.perf_counter()
            levels.append(run_level(Path(tmp) / f"buyers-{buyers}", buyers, purchases))
            took = time.perf_counter() - began
            print(f"  {buyers} buyers done in {took:.1f}s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - clock

    print()
    print("\n".join(table(levels)))
    print("\n".join(NOTES))
    print()
    for level in levels:
        print("\n".join(details(level)))
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report(levels, facts, started, seconds), indent=2) + "\n")
    print(f"results: {ARTIFACT} (whole run {seconds:.0f}s)")
    print(summary_line(levels, facts))
    return EXIT_STATUS[_status(levels)]


if __name__ == "__main__":
    sys.exit(main())
