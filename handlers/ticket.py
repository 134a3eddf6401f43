"""A ticket as each side sees it: the agent's card, relayed messages, and the rating at the end."""

from __future__ import annotations

from handlers.action import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    Action,
    Button,
    CopyMessage,
    Keyboard,
    Rendered,
    SendText,
)
from handlers.callback import encode
from handlers.event import (
    CAPTIONED_KINDS,
    OTHER_KINDS,
    DocumentMessage,
    OtherMessage,
    PhotoMessage,
    TextMessage,
)
from handlers.status import status_text
from handlers.text import N_, Markup, escape, say, say_plain, shorten
from store.domain.case import NotReplaced, ReplacementRules
from store.domain.model import Language
from store.domain.money import format_money
from store.domain.refund import refundable
from store.services.ticket import AssignmentCard, CaseDetail

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


KIND_TEXTS: dict[str, str] = {
    "sticker": N_("kind.sticker"),
    "voice": N_("kind.voice"),
    "video": N_("kind.video"),
    "video_note": N_("kind.video_note"),
    "audio": N_("kind.audio"),
    "animation": N_("kind.animation"),
    "venue": N_("kind.venue"),
    "location": N_("kind.location"),
    "contact": N_("kind.contact"),
    "dice": N_("kind.dice"),
    "poll": N_("kind.poll"),
}
"""What a message that is neither text, a photo nor a file is called, by its kind."""
NOT_REPLACED_TEXTS: dict[NotReplaced, str] = {
    NotReplaced.DISABLED: N_("case.not_replaced.disabled"),
    NotReplaced.REPEAT: N_("case.not_replaced.repeat"),
    NotReplaced.LATE: N_("case.not_replaced.late"),
    NotReplaced.COOLDOWN: N_("case.not_replaced.cooldown"),
    NotReplaced.LARGE: N_("case.not_replaced.large"),
    NotReplaced.NO_STOCK: N_("case.not_replaced.no_stock"),
}
_CASE_DECISIONS = (
    (N_("agent.case_replace"), "replaced"),
    (N_("agent.case_refund"), "refunded"),
    (N_("agent.case_decline"), "declined"),
)


def kind_name(lang: Language, media: str) -> str:
    return say(lang, KIND_TEXTS[media])


def focus_keyboard(lang: Language, ticket_id: int) -> Keyboard:
    return ((Button(say_plain(lang, "agent.focus", id=ticket_id), encode("agt", ticket_id)),),)


def rating_keyboard(ticket_id: int) -> Keyboard:
    return (tuple(Button("⭐" * n, encode("rate", ticket_id, n)) for n in range(1, 6)),)


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


def to_buyer(
    lang: Language,
    buyer_id: int,
    agent_alias: str,
    body: str,
    media: str | None,
    from_chat: int,
    message_id: int,
) -> list[Action]:
    """An agent's message as the buyer sees it: "Agent <alias>", never the agent's account."""
    name = relayed_name(agent_alias)
    if media and not takes_caption(media):  # a sticker, a location: the header first
        sent = say(lang, "support.agent_sent", agent=name, kind=kind_name(lang, media))
        return [SendText(buyer_id, sent), CopyMessage(buyer_id, from_chat, message_id)]
    said = say(lang, "support.agent_says", agent=name, text=relayed_words(body, media is not None))
    if media:
        return [CopyMessage(buyer_id, from_chat, message_id, said)]
    return [SendText(buyer_id, said)]


def _case_detail(
    lang: Language, detail: CaseDetail | None, currency: str, rules: ReplacementRules
) -> Markup:
    """An open case's reported key, masked, and why it waits for an agent."""
    if detail is None:
        return Markup("")
    shown = say(lang, "agent.case_key", masked=detail.masked_key) if detail.masked_key else ""
    if detail.not_replaced is None:
        return Markup(shown)
    why = say(
        lang,
        NOT_REPLACED_TEXTS[detail.not_replaced],
        hours=rules.within_hours,
        days=rules.cooldown_days,
        amount=format_money(rules.max_order_minor, currency),
    )
    return Markup(shown) + say(lang, "agent.case_why", why=why)


def render_card(
    view: AssignmentCard,
    currency: str,
    *,
    tell_buyer: bool = True,
    rules: ReplacementRules | None = None,
) -> Rendered:
    """The agent who has a ticket now: its context card, then what the buyer wrote while it
    waited; the buyer is told who it is (unless `tell_buyer` is off: they know already). The
    messages shown are acknowledged once sent."""
    ticket, context, lang = view.ticket, view.context, view.agent_language
    none = say(lang, "agent.none")
    orders = (
        "\n".join(
            f"{o.reference} {escape(o.product_name(lang))} ×{o.quantity} · "
            f"{format_money(o.total_minor, currency)} · "
            f"{escape(status_text(lang, o.status))}{' · 👁' if o.revealed_at else ''}"
            for o in context.orders
        )
        or none
    )
    tickets = (
        "\n".join(f"#{t.id} {t.status.value} {escape(t.subject[:40])}" for t in context.tickets)
        or none
    )
    cases = (
        "\n".join(
            f"{c.order_reference} {c.reason.value} → {c.status.value}"
            + _case_detail(lang, context.details.get(c.id), currency, rules or ReplacementRules())
            for c in context.cases
        )
        or none
    )
    case = next((c for c in context.cases if c.id == ticket.case_id), None)
    card = say(
        lang,
        "agent.ticket_card",
        id=ticket.id,
        order=say(lang, "agent.card_order", ref=case.order_reference) if case else "",
        name=context.first_name or "#",
        user=ticket.user_id,
        kind=say(lang, "agent.bad_key_kind") if ticket.kind == "bad_key" else "",
        subject=ticket.subject,
        orders=Markup(orders),
        tickets=Markup(tickets),
        cases=Markup(cases),
    )
    rows: list[tuple[Button, ...]] = []
    if ticket.case_id is not None:
        ref = case.order_reference if case else ""
        rows.append(
            tuple(
                Button(
                    say_plain(lang, label, ref=ref),
                    encode("agcase", ticket.case_id, decision),
                )
                for label, decision in _CASE_DECISIONS
            )
        )
    refundable_orders = [o for o in context.orders if refundable(o)]
    rows.extend(
        (
            Button(
                say_plain(lang, "agent.refund_button", ref=o.reference),
                encode("agref", o.reference),
            ),
        )
        for o in refundable_orders[:3]
    )
    focus = say_plain(lang, "agent.focus", id=ticket.id)
    rows.append((Button(focus, encode("agt", ticket.id)),))
    agent_id = view.agent.user_id
    actions: list[Action] = [SendText(agent_id, card, tuple(rows))]
    for message in view.waiting:
        actions += to_agent(
            lang,
            agent_id,
            ticket.id,
            context.first_name,
            message.body,
            message.media,
            message.author_id,
            message.source_message_id,
        )
    if tell_buyer:
        assigned = say(view.buyer_language, "support.assigned", agent=view.agent.alias)
        actions.append(SendText(ticket.user_id, assigned))
    return Rendered(tuple(actions), relayed=tuple(m.id for m in view.waiting))
