"""Periodic jobs (APScheduler): release lapsed reservations, and nudge the outbox."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery import DeliveryWorker
from handlers.context import ShopContext
from store.service.order import expire_reservations
from store.service.ticket import check_response_targets

log = logging.getLogger(__name__)


async def release_lapsed_reservations(ctx: ShopContext) -> int:
    expired = await expire_reservations(ctx.uow(), now=ctx.clock.now())
    if expired:
        log.info("released the keys of %d lapsed reservations", len(expired))
    return len(expired)


async def watch_response_targets(ctx: ShopContext, delivery: DeliveryWorker) -> int:
    """A missed first/next response target is recorded once and alerted (through the outbox)."""
    breached = await check_response_targets(ctx.uow(), now=ctx.clock.now(), rules=ctx.support)
    if breached:
        log.warning("%d tickets missed a response target", len(breached))
        delivery.wake()
    return len(breached)


def build_scheduler(
    ctx: ShopContext, delivery: DeliveryWorker, *, expiry_seconds: int = 20
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        release_lapsed_reservations,
        "interval",
        seconds=expiry_seconds,
        args=[ctx],
        id="expire_reservations",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        delivery.wake, "interval", seconds=10, id="outbox_nudge", max_instances=1, coalesce=True
    )
    scheduler.add_job(
        watch_response_targets,
        "interval",
        seconds=30,
        args=[ctx, delivery],
        id="response_targets",
        max_instances=1,
        coalesce=True,
    )
    return scheduler
