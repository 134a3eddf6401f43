"""Handing a buyer to a person, as they see it: who is with them, or their place in the queue."""

from __future__ import annotations

from handlers.action import Action, SendText
from handlers.event import ButtonPress, PhotoMessage, TextMessage
from handlers.text import Markup, say
from store.domain.model import Language, QueueStanding
from store.services.queue import Handoff


def standing_text(lang: Language, standing: QueueStanding, support_hours: str) -> Markup:
    position = standing.position or 1
    if standing.expected_wait_seconds is None:
        return say(lang, "support.queued_offline", hours=support_hours, position=position)
    minutes = max(1, round(standing.expected_wait_seconds / 60))
    return say(lang, "support.queued", position=position, ahead=position - 1, wait=minutes)


def handoff_reply(
    event: TextMessage | ButtonPress | PhotoMessage, lang: Language, handoff: Handoff
) -> list[Action]:
    """Who is with the buyer now; nothing more when the outbox tells them.

    A new assignment's outbox item tells both sides (the agent's card with it), and a buyer
    left waiting gets their place from the outbox too: one message, edited as the queue moves.
    """
    chat = event.person.chat_id
    if handoff.agent is not None and not handoff.new:
        return [SendText(chat, say(lang, "support.assigned", agent=handoff.agent.display_name))]
    if handoff.agent is None and not handoff.new and handoff.ticket.queue_message_id is not None:
        return [SendText(chat, say(lang, "support.kept"))]
    return []
