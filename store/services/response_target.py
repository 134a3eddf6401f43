"""Response targets: each missed first or next response recorded once, and alerted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from store.domain.model import Language, Ticket
from store.domain.outbox import ADMINS_CHAT, ResponseBreach
from store.domain.support import Breach, ResponseTarget, SupportRules
from store.services.ports import UnitOfWork
from store.services.user import language_of


async def check_response_targets(
    uow: UnitOfWork, *, now: datetime, rules: SupportRules
) -> list[tuple[Ticket, ResponseTarget]]:
    """Record each missed response target once; one alert per run to agents on duty and admins."""
    first_due = now - timedelta(minutes=rules.first_response_minutes)
    next_due = now - timedelta(minutes=rules.next_response_minutes)
    breached: list[tuple[Ticket, ResponseTarget]] = []
    async with uow:
        for ticket, target, since in await uow.tickets.overdue(first_due, next_due):
            if await uow.tickets.record_breach(ticket.id, target, since, now):
                breached.append((ticket, target))
        if breached:
            alert = ResponseBreach(tuple(Breach(t.id, target) for t, target in breached))
            await uow.outbox.add(alert, ADMINS_CHAT, f"breach:{now.isoformat()}", now)
        await uow.commit()
    return breached


async def alert_recipients(
    uow: UnitOfWork, *, admin_ids: Iterable[int]
) -> list[tuple[int, Language]]:
    """Who hears of a missed target, in their language: agents on duty, and the admins."""
    async with uow.reading():
        on_duty = {agent.user_id for agent in await uow.agents.on_duty()}
        return [(chat, await language_of(uow, chat)) for chat in sorted(on_duty | set(admin_ids))]
