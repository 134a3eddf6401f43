"""Periodic jobs (APScheduler): lapsed reservations, the outbox, response targets, and the books
(reconciliation with Telegram's payments, interrupted imports, the inbox)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.intake import Intake
from bot.outbox_worker import OutboxWorker
from handlers.context import ShopContext
from store.services.inbox import forget_handled_updates
from store.services.order import expire_reservations
from store.services.reconciliation import ReconciliationReport, StarLedger, reconcile_payments
from store.services.response_target import check_response_targets
from store.services.stock import recover_imports

log = logging.getLogger(__name__)


async def release_lapsed_reservations(ctx: ShopContext) -> int:
    expired = await expire_reservations(ctx.uow(), now=ctx.clock.now())
    if expired:
        log.info("released the keys of %d lapsed reservations", len(expired))
    return len(expired)


async def watch_response_targets(ctx: ShopContext, outbox: OutboxWorker) -> int:
    """A missed first/next response target is recorded once and alerted (through the outbox)."""
    breached = await check_response_targets(ctx.uow(), now=ctx.clock.now(), rules=ctx.support)
    if breached:
        log.warning("%d tickets missed a response target", len(breached))
        outbox.wake()
    return len(breached)


async def keep_books(
    ctx: ShopContext, ledger: StarLedger, outbox: OutboxWorker
) -> ReconciliationReport | None:
    """Reconcile payments with Telegram's record, resume refunds, settle interrupted imports.

    Each part is tried on its own: Telegram out of reach must not stop an import's recovery.
    """
    report = None
    try:
        report = await reconcile_payments(
            ctx.uow, ledger, ctx.refunder, now=ctx.clock.now(), rules=ctx.hold, topup=ctx.topup
        )
        if report.charges_applied or report.refunds_recorded or report.refunds_resumed:
            log.warning(
                "reconciliation: %d charges applied, %d refunds recorded, %d refunds resumed",
                report.charges_applied,
                report.refunds_recorded,
                report.refunds_resumed,
            )
    except Exception as error:
        log.warning("reconciliation did not run: %s", type(error).__name__)
    try:
        if settled := await recover_imports(ctx.uow, now=ctx.clock.now()):
            log.warning("settled %d interrupted imports", settled)
    except Exception as error:
        log.warning("import recovery did not run: %s", type(error).__name__)
    outbox.wake()
    return report


async def forget_old_updates(ctx: ShopContext) -> int:
    return await forget_handled_updates(ctx.uow, now=ctx.clock.now())


def build_scheduler(
    ctx: ShopContext,
    outbox: OutboxWorker,
    ledger: StarLedger,
    intake: Intake,
    *,
    books_seconds: int = 60,
    expiry_seconds: int = 20,
) -> AsyncIOScheduler:
    """`books_seconds`: how often payments are reconciled and interrupted imports settled."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    jobs = [
        ("expire_reservations", release_lapsed_reservations, [ctx], expiry_seconds),
        ("outbox_nudge", outbox.wake, [], 10),
        ("response_targets", watch_response_targets, [ctx, outbox], 30),
        ("books", keep_books, [ctx, ledger, outbox], books_seconds),
        ("inbox_sweep", intake.resume, [], 60),
        ("inbox_forget", forget_old_updates, [ctx], 3600),
    ]
    for job_id, job, args, seconds in jobs:
        scheduler.add_job(
            job,
            "interval",
            seconds=seconds,
            args=args,
            id=job_id,
            max_instances=1,
            coalesce=True,
        )
    return scheduler
