"""`make bench`: the crash test, large form, and a long import beside payments.

1. A sale of 300 buyers on each runtime and database, the real bot killed with `kill -9` five
   times while they pay with Stars, pay from their wallets and ask for refunds (see
   tests/crash_sale.py). Every charge Telegram took is accounted for.
2. `python -m bot stock import` of 1,000,000 keys into a SQLite shop while this process writes
   a payment-sized transaction every 20 ms: how long each write waited for the import.

Exit status 1 when any charge was lost or doubled, or any other invariant broke.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from store.adapters.database import create_engine
from store.adapters.migration import upgrade
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import StoreBusy
from store.services.catalog import load_catalog
from store.services.wallet import credit_wallet
from tests.crash_sale import PROJECT, SECRET, SalePlan, SaleReport, run_sale
from tests.factories import catalog, product

LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or LOCAL_POSTGRES
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return None
    finally:
        await engine.dispose()
    return url


def _row(r: SaleReport) -> str:
    return (
        f"{r.runtime:<8} {r.database:<10} {r.charges:>7} {r.delivered:>9} {r.refunded:>8} "
        f"{r.wallet_paid:>6} {len(r.lost):>5} {len(r.doubled):>7} {len(r.paid_without_keys):>12} "
        f"{len(r.stuck_refunds):>6} {len(r.keys_in_two_orders):>11} {len(r.buyers_unserved):>8} "
        f"{len(r.repeated_notices):>10} {r.seconds:>8.0f}"
    )


async def crash_sales(buyers: int, kills: int, workdir: Path) -> list[SaleReport]:
    urls = {"sqlite": None, "postgresql": await _postgres_url()}
    print(
        f"crash test: {buyers} buyers, {kills} kill -9 of the bot during the sale, on each "
        "runtime and database (Stars, wallet and refunds)"
    )
    print(
        f"{'runtime':<8} {'database':<10} {'charges':>7} {'delivered':>9} {'refunded':>8} "
        f"{'wallet':>6} {'lost':>5} {'doubled':>7} {'paid-no-keys':>12} {'stuck':>6} "
        f"{'key-in-two':>11} {'unserved':>8} {'told-twice':>10} {'seconds':>8}"
    )
    reports = []
    for runtime in ("aiogram", "ptb"):
        for database, url in urls.items():
            if database == "postgresql" and url is None:
                print(f"{runtime:<8} {database:<10} skipped: no PostgreSQL at {LOCAL_POSTGRES}")
                continue
            folder = workdir / f"{runtime}-{database}"
            folder.mkdir()
            sale_url = url or f"sqlite+aiosqlite:///{folder / 'sale.sqlite3'}"
            plan = SalePlan(runtime, sale_url, buyers=buyers, kills=kills, seed=2026)
            report = await run_sale(plan, folder)
            print(_row(report), flush=True)
            for problem in (
                "lost",
                "doubled",
                "paid_without_keys",
                "stuck_refunds",
                "buyers_unserved",
            ):
                if found := getattr(report, problem):
                    print(f"    {problem}: {found[:5]}")
            if report.other_breaches:
                print(f"    other: {report.other_breaches}")
            reports.append(report)
    return reports


@dataclass(frozen=True)
class ImportProbe:
    keys: int
    seconds: float
    writes: int
    failed: int
    waits_ms: list[float]


async def import_beside_payments(keys: int, workdir: Path) -> ImportProbe:
    database = workdir / "import.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    engine = create_engine(url)
    await upgrade(engine)
    uow = UnitOfWorkFactory(engine)
    await load_catalog(
        uow(), spec=catalog(product("BIG")), star_value_minor=10, default_order_limit=10
    )
    key_file = workdir / "keys.txt"
    lines = "".join(f"BULK-{n:08d}-{n * 7919 % 99991:05d}\n" for n in range(keys))
    await asyncio.to_thread(key_file.write_text, lines)
    env = {**os.environ, "DATABASE_URL": url, "CARD_KEY_SECRET": SECRET}
    started = time.monotonic()
    importer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "stock",
        "import",
        "BIG",
        str(key_file),
        env=env,
        cwd=PROJECT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    waits: list[float] = []
    failed = 0
    n = 0
    while importer.returncode is None:
        n += 1
        begun = time.perf_counter()
        try:
            await credit_wallet(
                uow(),
                user_id=9,
                amount_minor=1,
                reason="probe",
                idempotency_key=f"p{n}",
                now=datetime.now(UTC),
            )
            waits.append((time.perf_counter() - begun) * 1000)
        except StoreBusy:
            failed += 1
        await asyncio.sleep(0.02)  # the next payment arrives 20 ms later
    await importer.wait()
    seconds = time.monotonic() - started
    await engine.dispose()
    if importer.returncode != 0:
        raise SystemExit(f"the import failed with exit status {importer.returncode}")
    return ImportProbe(keys, seconds, len(waits), failed, waits)


def _print_probe(probe: ImportProbe) -> None:
    waits = sorted(probe.waits_ms)
    p99 = waits[int(len(waits) * 0.99) - 1] if waits else 0.0
    print(
        f"\nimport of {probe.keys:,} keys (python -m bot stock import, SQLite) beside a "
        "payment-sized write every 20 ms:"
    )
    print(
        f"  import {probe.seconds:.1f} s wall ({probe.keys / probe.seconds:,.0f} keys/s); "
        f"{probe.writes} writes went through meanwhile, {probe.failed} gave up"
    )
    if waits:
        print(
            f"  a write waited: median {statistics.median(waits):.1f} ms, p99 {p99:.1f} ms, "
            f"max {waits[-1]:.1f} ms"
        )


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="kamibot-crash-") as tmp:
        workdir = Path(tmp)
        reports = await crash_sales(args.buyers, args.kills, workdir)
        probe = await import_beside_payments(args.keys, workdir)
    _print_probe(probe)
    return 0 if all(r.clean for r in reports) and probe.failed == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.crash")
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--keys", type=int, default=1_000_000)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
