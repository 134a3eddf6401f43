"""Handing a buyer to a person, as they see it: who is with them, or their place in the queue;
and leaving again."""

from __future__ import annotations

from datetime import datetime

from handlers.action import Action, EditText, SendText
from handlers.event import ButtonPress, DocumentMessage, PhotoMessage, TextMessage
from handlers.shop_time import hours_text
from handlers.text import N_, Markup, say
from store.domain.model import Language, QueueStanding
from store.domain.shop_time import ShopTime
from store.services.queue import Handoff
from store.services.ticket import LeftTicket


def standing_text(
    lang: Language, standing: QueueStanding, shop_time: ShopTime, now: datetime
) -> Markup:
    """The buyer's place; with nobody on duty, whether it is after hours (🌙) or not."""
    position = standing.position or 1
    if standing.expected_wait_seconds is None:
        key = (
            N_("support.queued_unstaffed")
            if shop_time.within_support_hours(now)
            else N_("support.queued_offline")
        )
        return say(lang, key, hours=hours_text(lang, shop_time), position=position)
    minutes = max(1, round(standing.expected_wait_seconds / 60))
    if position == 1:  # nobody ahead: "0 ahead of you, number 1" says it twice, and oddly
        return say(lang, "support.queued_next", wait=minutes)
    return say(lang, "support.queued", position=position, ahead=position - 1, wait=minutes)


def handoff_reply(
    event: TextMessage | ButtonPress | PhotoMessage | DocumentMessage,
    lang: Language,
    handoff: Handoff,
) -> list[Action]:
    """Who is with the buyer now; nothing more when the outbox tells them.

    A new assignment's outbox item tells both sides (the agent's card with it), and a buyer
    left waiting gets their place from the outbox too: one message, edited as the queue moves.
    """
    chat = event.person.chat_id
    if handoff.agent is not None and not handoff.new:
        return [SendText(chat, say(lang, "support.assigned", agent=handoff.agent.alias))]
    if handoff.agent is None and not handoff.new and handoff.ticket.queue_message_id is not None:
        return [SendText(chat, say(lang, "support.kept"))]
    return []


def left_reply(event: TextMessage | ButtonPress, lang: Language, left: LeftTicket) -> list[Action]:
    """The buyer is told they left (and their queue message, if any, loses its button); the
    agent who had the ticket is told the buyer went."""
    chat = event.person.chat_id
    ticket = left.ticket
    actions: list[Action] = []
    shown = ticket.queue_message_id
    if shown is not None and not (isinstance(event, ButtonPress) and event.message_id == shown):
        actions.append(EditText(chat, shown, say(lang, "support.queue_left")))
    told = N_("support.left_agent") if left.agent_id is not None else N_("support.left_queue")
    actions.append(SendText(chat, say(lang, told)))
    if left.agent_id is not None:
        gone = say(left.agent_language, "agent.buyer_left", id=ticket.id)
        actions.append(SendText(left.agent_id, gone))
    return actions
