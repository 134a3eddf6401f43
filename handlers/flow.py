"""Leaving a multi-step flow (a bad-key report's screenshot, an agent's reason to decline),
or the queue for a person."""

from __future__ import annotations

from handlers.action import Action
from handlers.context import ShopContext
from handlers.event import TextMessage
from handlers.handoff import left_reply
from handlers.screen import refuse
from handlers.text import say_plain
from store.domain.model import Language
from store.services.ticket import leave_support


async def cmd_cancel(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/cancel: whatever step the user was at is left, and so is the queue (or their agent)."""
    left = await leave_support(
        ctx.uow(), user_id=event.person.user_id, now=ctx.clock.now(), leave_step=True
    )
    if left is not None:
        return left_reply(event, lang, left)
    return refuse(event, say_plain(lang, "flow.cancelled"))
