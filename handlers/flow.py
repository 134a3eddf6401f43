"""Leaving a multi-step flow (a bad-key report's screenshot, an agent's reason to decline)."""

from __future__ import annotations

from handlers.action import Action
from handlers.context import ShopContext
from handlers.event import TextMessage
from handlers.screen import refuse
from handlers.text import say_plain
from store.domain.model import Language
from store.services.conversation_state import leave_flow


async def cmd_cancel(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/cancel: whatever step the user was at is left."""
    await leave_flow(ctx.uow(), user_id=event.person.user_id)
    return refuse(event, say_plain(lang, "flow.cancelled"))
