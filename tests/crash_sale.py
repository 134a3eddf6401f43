"""A flash sale against the real bot process, killed with SIGKILL at random moments.

The sandbox (Telegram) runs here; `python -m bot run` runs as a child process that is killed
with `kill -9` while buyers pay with Stars, pay from their wallets and ask for refunds, then
restarted, until the shop is quiet. Then every charge Telegram took is accounted for from
Telegram's side (the sandbox) against the shop's books: delivered exactly once, or refunded
exactly once. Used by tests/e2e/test_crash.py (small) and tests/bench/crash.py (large).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from sandbox import Sandbox
from sandbox.sandbox import DEFAULT_TOKEN
from sandbox.state import UserProfile
from sandbox.user import ChatMessage, SandboxUser
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import create_engine
from store.adapters.migration import upgrade
from store.adapters.tables import inbox, orders, outbox, payments, refunds
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.clock import SystemClock
from store.domain.reference import ALPHABET
from tests.factories import key_file, keys
from tests.invariants import read_books

SECRET = "a crash-test passphrase comfortably longer than 32 characters"
SKU = "STEAM-50"
FIRST_BUYER = 5000
STEP_TIMEOUT = 12.0
"""How long a buyer waits for an answer before trying again (the bot may be dead)."""
QUIET_TIMEOUT = 180.0
PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class SalePlan:
    runtime: str
    database_url: str
    buyers: int
    kills: int
    seed: int = 1
    wallet_share: float = 0.25
    refund_share: float = 0.25


@dataclass
class SaleReport:
    runtime: str
    database: str
    buyers: int
    kills: int
    charges: int = 0
    delivered: int = 0
    refunded: int = 0
    wallet_paid: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    paid_without_keys: list[int] = field(default_factory=list)
    stuck_refunds: list[str] = field(default_factory=list)
    keys_in_two_orders: list[int] = field(default_factory=list)
    other_breaches: dict[str, list[object]] = field(default_factory=dict)
    buyers_unserved: list[str] = field(default_factory=list)
    repeated_notices: list[int] = field(default_factory=list)
    """Buyers who got "your keys are ready" for one order in two messages (a repeat is an edit)."""
    transcripts: dict[int, list[tuple[object, ...]]] = field(default_factory=dict)
    """The chats of those buyers, to read when that happens."""
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.doubled
            or self.paid_without_keys
            or self.stuck_refunds
            or self.keys_in_two_orders
            or self.other_breaches
            or self.buyers_unserved
            or self.repeated_notices
        )


class BotProcess:
    """`python -m bot run` as a child process, to be killed and started again."""

    def __init__(self, plan: SalePlan, base_url: str, log: Path) -> None:
        self._plan = plan
        self._log = log
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE"))},
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": base_url,
            "DATABASE_URL": plan.database_url,
            "CARD_KEY_SECRET": SECRET,
            "ADMIN_IDS": "42",
            "LOG_LEVEL": "WARNING",
            "RECONCILE_SECONDS": "5",
        }
        self._process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        with open(self._log, "ab") as log:  # noqa: ASYNC230 - a local log file, opened once a start
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--runtime",
                self._plan.runtime,
                env=self._env,
                stdout=log,
                stderr=log,
                cwd=PROJECT,
            )
        self.starts += 1

    async def kill(self) -> None:
        """kill -9: no clean-up of any kind runs."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        await self._process.wait()

    async def stop(self) -> int:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        return await self._process.wait()


REFERENCE = re.compile(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")
"""An order's reference, as the bot names orders to buyers."""


def _newest(
    messages: list[ChatMessage], *needles: str, order: str | None = None
) -> ChatMessage | None:
    """The newest bot message holding every needle (and naming the order by its reference)."""
    for message in reversed(messages):
        body = message["text"] or ""
        if message["sender"] != "bot" or not all(n in body for n in needles):
            continue
        if order is None or order in body:
            return message
    return None


async def poll_until(condition: Any, deadline: float, every: float = 0.5) -> bool:
    """Check `condition()` (async) every `every` seconds until it holds or `deadline` passes:
    the database is another process's, so there is nothing to be notified by."""
    while not await condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(every)
    return True


class Buyer:
    """A buyer who keeps trying, as people do when a bot goes quiet, until served."""

    def __init__(self, user: SandboxUser, *, pays_with: str, refunds: bool) -> None:
        self.user = user
        self.pays_with = pays_with
        self.refunds = refunds
        self.order_ref: str | None = None
        self.done = False

    async def _until(self, step: str, act: Any, found: Any, tries: int = 12) -> ChatMessage:
        for _ in range(tries):
            await act()
            try:
                return await self.user.wait_for(found, timeout=STEP_TIMEOUT)
            except TimeoutError:
                continue
        last = [(m["sender"], (m["text"] or "")[:40]) for m in self.user.messages[-3:]]
        raise TimeoutError(f"buyer {self.user.user_id} gave up at {step}; saw {last}")

    async def shop(self) -> None:
        await self._until(
            "start", lambda: self.user.send_text("/start"), lambda m: _newest(m, "welcome")
        )
        summary = await self._until(
            "buy", lambda: self.user.press_forged(f"buy:{SKU}:1"), lambda m: _newest(m, "held")
        )
        # "Order K7F3-2QX9" (or, pressed again after a kill: "…in order K7F3-2QX9; here it is: …")
        self.order_ref = REFERENCE.findall(str(summary["text"]))[-1]
        if self.pays_with == "wallet":
            await self._until(
                "wallet",
                lambda: self.user.press_forged(f"paywallet:{self.order_ref}", summary),
                lambda m: _newest(m, "ready for order", order=self.order_ref),
            )
        else:
            await self._pay_with_stars(summary)
        if self.refunds:
            await self._until(
                "refund",
                lambda: self.user.press_forged(f"refund:{self.order_ref}"),
                lambda m: _newest(m, "refund", order=self.order_ref) or self._refused_as_refunded(),
            )
        else:
            await self._until(
                "reveal",
                lambda: self.user.press_forged(f"keys:{self.order_ref}"),
                lambda m: _newest(m, "How to redeem", order=self.order_ref),
            )
        self.done = True

    def notices(self) -> int:
        """How many messages told this buyer their order's keys are ready."""
        return sum(
            1
            for m in self.user.messages
            if m["sender"] == "bot"
            and "ready for order" in (m["text"] or "")
            and (self.order_ref or "?") in (m["text"] or "")
        )

    def _refused_as_refunded(self) -> bool:
        answer = self.user.last_callback_answer()
        return bool(answer and answer.text and "refund" in answer.text.lower())

    async def _pay_with_stars(self, summary: ChatMessage) -> None:
        for _ in range(12):
            if self._paid():
                break
            invoices = len([m for m in self.user.messages if m.get("invoice")])
            await self.user.press_forged(f"paystars:{self.order_ref}", summary)

            def invoiced(m: list[ChatMessage], seen: int = invoices) -> bool:
                return len([x for x in m if x.get("invoice")]) > seen

            try:
                await self.user.wait_for(invoiced, timeout=STEP_TIMEOUT)
            except TimeoutError:
                continue
            result = await self.user.pay()
            if result.ok:
                break
        try:
            await self.user.wait_for(
                lambda m: _newest(m, "ready for order", order=self.order_ref),
                timeout=QUIET_TIMEOUT,
            )
        except TimeoutError:
            raise TimeoutError(f"buyer {self.user.user_id}: no keys after paying") from None

    def _paid(self) -> bool:
        return any(m.get("invoice") and m["invoice"]["paid"] for m in self.user.messages)


async def _prepare_database(plan: SalePlan, wallets: list[int]) -> None:
    engine = create_engine(plan.database_url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    from store.services.catalog import load_catalog
    from store.services.stock import import_card_keys
    from store.services.wallet import credit_wallet
    from tests.factories import catalog, product

    uow = UnitOfWorkFactory(engine)
    now = SystemClock().now()
    await load_catalog(
        uow(), spec=catalog(product(SKU)), star_value_minor=10, default_order_limit=10
    )
    await import_card_keys(
        uow,
        sku=SKU,
        parsed=key_file(*keys(SKU, plan.buyers + 5)),
        source="crash-test",
        cipher=CardKeyCipher([SECRET]),
        now=now,
    )
    for user_id in wallets:
        await credit_wallet(
            uow(),
            user_id=user_id,
            amount_minor=4800,
            reason="crash test",
            idempotency_key=f"crash-{user_id}",
            now=now,
        )
    await engine.dispose()


async def _quiet(uow: UnitOfWorkFactory, sandbox: Sandbox) -> bool:
    async with uow().reading() as tx:
        c = tx.connection
        busy = [
            (await c.execute(select(inbox.c.update_id).where(inbox.c.status == "pending"))).first(),
            (
                await c.execute(
                    select(outbox.c.id).where(outbox.c.status.in_(["pending", "sending"]))
                )
            ).first(),
            (await c.execute(select(refunds.c.id).where(refunds.c.status == "pending"))).first(),
            (await c.execute(select(orders.c.id).where(orders.c.status == "refunding"))).first(),
        ]
    return not any(busy) and not sandbox.state.updates


async def _account(plan: SalePlan, sandbox: Sandbox, report: SaleReport) -> None:
    engine = create_engine(plan.database_url)
    uow = UnitOfWorkFactory(engine)
    async with uow().reading() as tx:
        c = tx.connection
        recorded = {r.charge_id: r for r in (await c.execute(select(payments))).all()}
        by_id = {r.id: r for r in (await c.execute(select(orders))).all()}
    books = await read_books(uow)
    await engine.dispose()
    applied_to: Counter[int] = Counter()
    for charge_id, paid in sandbox.state.payments.items():
        report.charges += 1
        row = recorded.get(charge_id)
        order_id = int(paid.invoice.payload.split(":")[1])
        order = by_id.get(order_id)
        if paid.refunded:
            report.refunded += 1
            kept = (
                order is not None
                and order.status in ("paid", "delivered")
                and row is not None
                and row.outcome == "applied"
            )
            if kept:
                report.doubled.append(charge_id)  # money back, and the keys kept
        elif (
            row is None
            or row.outcome not in ("applied", "topup")
            or order is None
            or order.status not in ("paid", "delivered")
        ):
            report.lost.append(charge_id)
        else:
            report.delivered += 1
            applied_to[order_id] += 1
    report.doubled += [f"order {o}" for o, n in applied_to.items() if n > 1]
    report.wallet_paid = sum(
        1
        for o in by_id.values()
        if o.payment_method == "wallet" and o.status in ("paid", "delivered")
    )
    report.paid_without_keys = books.orders_without_their_keys
    report.keys_in_two_orders = books.keys_in_two_orders
    report.stuck_refunds = books.refunds_stuck + [
        f"order {o.id}" for o in by_id.values() if o.status == "refunding"
    ]
    report.other_breaches = {
        name: found
        for name, found in books.breaches().items()
        if name not in ("orders_without_their_keys", "keys_in_two_orders", "refunds_stuck")
    }


async def run_sale(plan: SalePlan, workdir: Path) -> SaleReport:
    """Run the sale, kill the bot `plan.kills` times, settle, and account for every charge."""
    started = time.monotonic()
    rng = random.Random(plan.seed)
    database = "postgresql" if plan.database_url.startswith("postgresql") else "sqlite"
    report = SaleReport(plan.runtime, database, plan.buyers, plan.kills)
    ids = [FIRST_BUYER + n for n in range(plan.buyers)]
    kinds = {user_id: rng.random() for user_id in ids}
    wallets = [u for u in ids if kinds[u] < plan.wallet_share]
    await _prepare_database(plan, wallets)
    sandbox = Sandbox(
        DEFAULT_TOKEN,
        users=[UserProfile(user_id=u, first_name=f"B{u}", language_code="en") for u in ids],
    )
    await sandbox.start()
    bot = BotProcess(plan, sandbox.base_url, workdir / f"bot-{plan.runtime}-{database}.log")
    await bot.start()
    buyers = [
        Buyer(
            sandbox.user(u),
            pays_with="wallet" if u in wallets else "stars",
            refunds=plan.wallet_share <= kinds[u] < plan.wallet_share + plan.refund_share,
        )
        for u in ids
    ]
    try:
        shopping = [asyncio.ensure_future(b.shop()) for b in buyers]
        # Kills fall while payments are under way: after a random number of charges, plus a
        # random few milliseconds, so they land anywhere in a payment's handling.
        marks = sorted(rng.sample(range(1, max(2, plan.buyers // 2)), plan.kills))
        for mark in marks:

            def charged(mark: int = mark) -> bool:
                return len(sandbox.state.payments) >= mark

            await sandbox.state.wait_until(charged, QUIET_TIMEOUT)
            # fault injection, not synchronisation: the kill lands at a random point of the
            # payment being handled (recorded, applied, delivered or not yet)
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            await bot.kill()
            await bot.start()
        results = await asyncio.gather(*shopping, return_exceptions=True)
        report.buyers_unserved = [str(r) for r in results if r is not None]
        report.repeated_notices = [b.user.user_id for b in buyers if b.notices() > 1]
        report.transcripts = {
            b.user.user_id: [
                (m["message_id"], m["sender"], (m["text"] or "")[:60], m["edited"])
                for m in b.user.messages
            ]
            for b in buyers
            if b.notices() > 1
        }
        engine = create_engine(plan.database_url)
        uow = UnitOfWorkFactory(engine)
        await poll_until(lambda: _quiet(uow, sandbox), time.monotonic() + QUIET_TIMEOUT)
        await engine.dispose()
        await bot.stop()
    finally:
        await sandbox.stop()
    await _account(plan, sandbox, report)
    report.seconds = time.monotonic() - started
    return report
