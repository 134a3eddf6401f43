"""Periodic jobs (APScheduler): lapsed reservations, the outbox, response targets, and the books
(reconciliation with Telegram's payments, interrupted imports, the inbox)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.intake import Intake
from bot.outbox_worker import OutboxWorker
from bot.trace_cli import publish_checkpoint
from config.settings import Settings
from handlers.context import ShopContext
from store.domain.signed_note import Signer
from store.services.books import settle_escrow
from store.services.inbox import forget_handled_updates
from store.services.order import expire_reservations
from store.services.provenance import LogInconsistent
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


async def settle_escrow_job(ctx: ShopContext) -> int:
    """Release the escrow of keys whose after-sales window is over (once each, however often)."""
    settled = await settle_escrow(ctx.uow, now=ctx.clock.now(), rules=ctx.escrow)
    if settled:
        log.info("settled the escrow of %d sold keys", settled)
    return settled


async def forget_old_updates(ctx: ShopContext) -> int:
    return await forget_handled_updates(ctx.uow, now=ctx.clock.now())


async def publish_checkpoints(
    ctx: ShopContext, settings: Settings, signer: Signer, outbox: OutboxWorker
) -> int:
    """After new key events, a signed checkpoint: appended to the file, posted to the channel.
    The log's size."""
    try:
        signed = await publish_checkpoint(settings, ctx.uow, signer, ctx.clock.now())
    except LogInconsistent as error:  # never signed over: an auditor must look first
        log.error("the transparency log was not signed: %s", error)
        return 0
    if signed.fresh:
        log.info("signed a checkpoint of %d log entries", signed.size)
        outbox.wake()
    return signed.size


def build_scheduler(
    ctx: ShopContext,
    outbox: OutboxWorker,
    ledger: StarLedger,
    intake: Intake,
    *,
    books_seconds: int = 60,
    expiry_seconds: int = 20,
    trace: tuple[Settings, Signer] | None = None,
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
        ("escrow_settlement", settle_escrow_job, [ctx], 600),
    ]
    if trace is not None:  # TRACE_SIGNING_KEY set: sign the log every TRACE_CHECKPOINT_SECONDS
        settings, signer = trace
        every = settings.TRACE_CHECKPOINT_SECONDS
        jobs.append(
            ("trace_checkpoint", publish_checkpoints, [ctx, settings, signer, outbox], every)
        )
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
