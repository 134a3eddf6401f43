"""The buyer's side of human support: asking for a person, writing to them, rating the help."""

from __future__ import annotations

from handlers.action import Action, SendText
from handlers.context import ShopContext
from handlers.event import ButtonPress, OtherMessage, TextMessage
from handlers.handoff import handoff_reply, left_reply
from handlers.screen import notify, refuse, show, spent
from handlers.text import say, say_plain
from handlers.ticket import NOT_RELAYED, Incoming, kind_name, media_of, to_agent
from store.domain.model import Language
from store.services.queue import ask_for_human
from store.services.ticket import buyer_wrote, leave_support, rate_ticket


async def on_human_requested(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """/human: a person is fetched, an agent at once if one has room, else a place in the queue."""
    handoff = await ask_for_human(
        ctx.uow(),
        user_id=event.person.user_id,
        first_name=event.person.first_name,
        now=ctx.clock.now(),
        cipher=ctx.cipher,
    )
    return handoff_reply(event, lang, handoff)


async def relay_from_buyer(
    event: Incoming, lang: Language, ctx: ShopContext
) -> list[Action] | None:
    """While a ticket is open, what the buyer sends goes to its agent, or waits for one
    (None: the ticket was closed meanwhile)."""
    if isinstance(event, OtherMessage) and event.kind in NOT_RELAYED:
        told = say(lang, "support.not_relayed", kind=kind_name(lang, event.kind))
        return [SendText(event.person.chat_id, told)]
    if isinstance(event, TextMessage):
        body, media = event.text, None
    else:
        body, media = event.caption, media_of(event)
    relay = await buyer_wrote(
        ctx.uow(),
        user_id=event.person.user_id,
        text=body,
        now=ctx.clock.now(),
        cipher=ctx.cipher,
        media=media,
        source_message_id=event.message_id,
    )
    if relay is None:
        return None
    if relay.chat_id is None:
        return [SendText(event.person.chat_id, say(lang, "support.kept"))]
    return to_agent(
        relay.language,
        relay.chat_id,
        relay.ticket.id,
        event.person.first_name,
        body,
        media,
        event.person.chat_id,
        event.message_id,
    )


async def on_leave_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, ticket_id: int
) -> list[Action]:
    """取消排队 on the queue message: the buyer's ticket is closed, and the message says so."""
    left = await leave_support(
        ctx.uow(), user_id=event.person.user_id, now=ctx.clock.now(), ticket_id=ticket_id
    )
    if left is None:  # closed already, or not theirs: only their own open ticket is looked up
        return refuse(event, say_plain(lang, "support.not_queued"))
    return [*show(event, say(lang, "support.queue_left")), *left_reply(event, lang, left)]


async def on_rate_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, ticket_id: int, rating: int
) -> list[Action]:
    """1–5 stars for a closed conversation, once."""
    if await rate_ticket(
        ctx.uow(), user_id=event.person.user_id, ticket_id=ticket_id, rating=rating
    ):
        return spent(event, notify(event, say(lang, "support.rated")))
    return refuse(event, say_plain(lang, "support.rate_once"))
