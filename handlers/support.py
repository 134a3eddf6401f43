"""The buyer's side of human support: asking for a person, writing to them, rating the help."""

from __future__ import annotations

from functools import partial

from handlers.action import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    Action,
    AnswerButton,
    Button,
    CopyMessage,
    Keyboard,
    SendText,
)
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.event import (
    CAPTIONED_KINDS,
    OTHER_KINDS,
    ButtonPress,
    DocumentMessage,
    OtherMessage,
    PhotoMessage,
    TextMessage,
)
from handlers.screen import notify, refuse
from handlers.text import say, shorten
from store.domain.model import Language, QueueStanding
from store.services.queue import Handoff, ask_for_human, remember_queue_message
from store.services.ticket import buyer_wrote, open_ticket_of, rate_ticket
from store.services.user import find_user

Incoming = TextMessage | PhotoMessage | DocumentMessage | OtherMessage
Media = PhotoMessage | DocumentMessage | OtherMessage

NOT_RELAYED = frozenset({"dice", "poll"})
"""Kinds not copied to the other side: a copied dice is a roll they did not make, a copied poll
collects votes apart from the original. The sender is told instead."""

HEADER_ROOM = 100
"""Telegram counts the text as read (entities parsed); a relayed message keeps this much room
for its header ("🎫 #id · name: ", "Agent name: ")."""
NAME_SHOWN = 32
"""A name in a relay's header, at most (64 UTF-16 units, well inside `HEADER_ROOM`)."""


def relayed_words(body: str, media: bool) -> str:
    """A relayed message's own words, cut before escaping (so never mid-entity) to fit a header."""
    return shorten(body, (CAPTION_LIMIT if media else TEXT_LIMIT) - HEADER_ROOM)


def relayed_name(name: str) -> str:
    return shorten(name, NAME_SHOWN) or "#"


def media_of(event: Media) -> str:
    """What a relayed message is, as stored on the ticket: photo, document, or its kind."""
    if isinstance(event, OtherMessage):
        return event.kind
    return "photo" if isinstance(event, PhotoMessage) else "document"


def takes_caption(media: str) -> bool:
    """Whether a copy of this can carry a header as its caption (a sticker or location cannot)."""
    return media not in OTHER_KINDS or media in CAPTIONED_KINDS


def kind_name(lang: Language, media: str) -> str:
    return say(lang, f"kind.{media}")


def standing_text(lang: Language, standing: QueueStanding, ctx: ShopContext) -> str:
    position = standing.position or 1
    if standing.expected_wait_seconds is None:
        return say(lang, "support.queued_offline", hours=ctx.support_hours, position=position)
    minutes = max(1, round(standing.expected_wait_seconds / 60))
    return say(lang, "support.queued", position=position, ahead=position - 1, wait=minutes)


def handoff_reply(
    event: TextMessage | ButtonPress | PhotoMessage,
    lang: Language,
    ctx: ShopContext,
    handoff: Handoff,
) -> list[Action]:
    """Who is with the buyer now, or their place in the queue (a message later edited in place)."""
    chat = event.person.chat_id
    if handoff.agent is not None and handoff.new:
        return []  # the assignment's outbox item tells both sides (the agent's card with it)
    if handoff.agent is not None:
        return [SendText(chat, say(lang, "support.assigned", agent=handoff.agent.display_name))]
    assert handoff.standing is not None
    if not handoff.new and handoff.ticket.queue_message_id is not None:
        return [SendText(chat, say(lang, "support.kept"))]
    remember = partial(_remember_queue_message, ctx, handoff.ticket.id)
    return [SendText(chat, standing_text(lang, handoff.standing, ctx), receipt=remember)]


def acknowledged(event: object, actions: list[Action]) -> list[Action]:
    """A button press is answered first, so its spinner stops."""
    if isinstance(event, ButtonPress):
        return [AnswerButton(event.callback_id), *actions]
    return actions


async def language_for(ctx: ShopContext, user_id: int) -> Language:
    """The language of someone we write to unprompted (a buyer, an agent), also after a restart."""
    known = ctx.languages.get(user_id)
    if known is not None:
        return known
    user = await find_user(ctx.uow(read_only=True), user_id=user_id)
    if user is None or user.language is None:
        return Language.EN
    ctx.languages.remember(user_id, user.language)
    return user.language


async def _remember_queue_message(ctx: ShopContext, ticket_id: int, message_id: int) -> None:
    await remember_queue_message(ctx.uow(), ticket_id=ticket_id, message_id=message_id)


async def on_human_requested(
    event: TextMessage | ButtonPress, lang: Language, ctx: ShopContext, text: str = ""
) -> list[Action]:
    """A person is fetched: an agent at once if one has room, else a place in the queue."""
    handoff = await ask_for_human(
        ctx.uow(),
        user_id=event.person.user_id,
        first_name=event.person.first_name,
        text=text,
        now=ctx.clock.now(),
        cipher=ctx.cipher,
    )
    return acknowledged(event, handoff_reply(event, lang, ctx, handoff))


async def relay_from_buyer(
    event: Incoming, lang: Language, ctx: ShopContext
) -> list[Action] | None:
    """While a ticket is open, what the buyer sends goes to its agent (None: no open ticket)."""
    if await open_ticket_of(ctx.uow(read_only=True), user_id=event.person.user_id) is None:
        return None
    if isinstance(event, OtherMessage) and event.kind in NOT_RELAYED:
        told = say(lang, "support.not_relayed", kind=kind_name(lang, event.kind))
        return [SendText(event.person.chat_id, told)]
    if isinstance(event, TextMessage):
        body, media, source = event.text, None, event.message_id
    else:
        body, media, source = event.caption, media_of(event), event.message_id
    relay = await buyer_wrote(
        ctx.uow(),
        user_id=event.person.user_id,
        text=body,
        now=ctx.clock.now(),
        cipher=ctx.cipher,
        media=media,
        source_message_id=source,
    )
    if relay is None:
        return None
    if relay.chat_id is None:
        return [SendText(event.person.chat_id, say(lang, "support.kept"))]
    agent_lang = await language_for(ctx, relay.chat_id)
    return to_agent(
        agent_lang,
        relay.chat_id,
        relay.ticket.id,
        event.person.first_name,
        body,
        media,
        event.person.chat_id,
        source,
    )


def focus_keyboard(lang: Language, ticket_id: int) -> Keyboard:
    return ((Button(say(lang, "agent.focus", id=ticket_id), encode("agt", ticket_id)),),)


def to_agent(
    lang: Language,
    agent_id: int,
    ticket_id: int,
    name: str,
    body: str,
    media: str | None,
    from_chat: int,
    message_id: int | None,
) -> list[Action]:
    """A buyer's message as the agent sees it: a ticket header, never the buyer's account."""
    copied = bool(media and message_id)
    if media and message_id and not takes_caption(media):  # the header goes first, on its own
        sent = say(
            lang,
            "agent.from_buyer_sent",
            id=ticket_id,
            name=relayed_name(name),
            kind=kind_name(lang, media),
        )
        return [
            SendText(agent_id, sent, focus_keyboard(lang, ticket_id)),
            CopyMessage(agent_id, from_chat, message_id),
        ]
    words = relayed_words(body, copied)
    header = say(lang, "agent.from_buyer", id=ticket_id, name=relayed_name(name), text=words)
    if copied and message_id:
        return [
            CopyMessage(agent_id, from_chat, message_id, header, focus_keyboard(lang, ticket_id))
        ]
    return [SendText(agent_id, header, focus_keyboard(lang, ticket_id))]


def rating_keyboard(ticket_id: int) -> Keyboard:
    return (tuple(Button("⭐" * n, encode("rate", ticket_id, n)) for n in range(1, 6)),)


async def on_rate_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, ticket_id: int, rating: int
) -> list[Action]:
    """1–5 stars for a closed conversation, once."""
    if await rate_ticket(
        ctx.uow(), user_id=event.person.user_id, ticket_id=ticket_id, rating=rating
    ):
        return notify(event, say(lang, "support.rated"))
    return refuse(event, say(lang, "support.rate_once"))
