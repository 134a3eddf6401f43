"""Replying to a command with a new message, or to a button by editing its message in place."""

from __future__ import annotations

from handlers.action import (
    ALERT_LIMIT,
    TEXT_LIMIT,
    Action,
    AnswerButton,
    EditKeyboard,
    EditText,
    Keyboard,
    SendText,
)
from handlers.event import ButtonPress, TextMessage
from handlers.text import Markup, escape, shorten


def show(
    event: TextMessage | ButtonPress, html: Markup, keyboard: Keyboard | None = None
) -> list[Action]:
    """A menu screen: a press edits the pressed message, a command sends a new one."""
    if isinstance(event, ButtonPress):
        return [
            AnswerButton(event.callback_id),
            EditText(event.person.chat_id, event.message_id, html, keyboard),
        ]
    return [SendText(event.person.chat_id, html, keyboard)]


def notify(
    event: TextMessage | ButtonPress, html: Markup, keyboard: Keyboard | None = None
) -> list[Action]:
    """A new message (not an edit), acknowledging the press if there was one."""
    acknowledge: list[Action] = (
        [AnswerButton(event.callback_id)] if isinstance(event, ButtonPress) else []
    )
    return [*acknowledge, SendText(event.person.chat_id, html, keyboard)]


def refuse(event: TextMessage | ButtonPress, text: str) -> list[Action]:
    """A short refusal: a popup for a press, a message for a command. Changes nothing.

    `text` is plain (`say_plain`): a popup shows it as written, and a message escapes it.
    """
    if isinstance(event, ButtonPress):
        return [AnswerButton(event.callback_id, shorten(text, ALERT_LIMIT), alert=True)]
    return [SendText(event.person.chat_id, escape(shorten(text, TEXT_LIMIT)))]


def spent(event: ButtonPress, actions: list[Action]) -> list[Action]:
    """These actions, the pressed message's buttons taken away once the press is answered: a
    choice made once (a rating, Skip, 👍) is not offered again."""
    gone = EditKeyboard(event.person.chat_id, event.message_id)
    answered = [a for a in actions if isinstance(a, AnswerButton)][:1]
    rest = [a for a in actions if a not in answered]
    return [*answered, gone, *rest]


def acknowledged(event: object, actions: list[Action]) -> list[Action]:
    """These actions, a button press answered first (so its spinner stops)."""
    if isinstance(event, ButtonPress):
        return [AnswerButton(event.callback_id), *actions]
    return actions
