"""Response targets: each missed first or next response recorded once, and alerted."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.adapters.unit_of_work import UnitOfWork
from store.domain.model import (
    OutboxKind,
    Ticket,
)
from store.domain.support import SupportRules
from store.services.order import ADMINS_CHAT


async def check_response_targets(
    uow: UnitOfWork, *, now: datetime, rules: SupportRules
) -> list[tuple[Ticket, str]]:
    """Record each missed response target once; one alert per run to agents on duty and admins."""
    first_due = now - timedelta(minutes=rules.first_response_minutes)
    next_due = now - timedelta(minutes=rules.next_response_minutes)
    breached: list[tuple[Ticket, str]] = []
    async with uow:
        for ticket, target, since in await uow.tickets.overdue(first_due, next_due):
            if await uow.tickets.record_breach(ticket.id, target, since, now):
                breached.append((ticket, target))
        if breached:
            body = ",".join(f"{target}:{ticket.id}" for ticket, target in breached)
            await uow.outbox.add(
                OutboxKind.RESPONSE_BREACH,
                ADMINS_CHAT,
                f"breach:{now.isoformat()}",
                now,
                body=body[:2000],
            )
        await uow.commit()
    return breached
