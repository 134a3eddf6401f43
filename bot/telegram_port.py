"""The Bot API calls Kamibot makes, as one port each runtime implements, and how actions use it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bot.sender import OutgoingSender, PermanentSendError, Priority
from handlers.action import (
    Action,
    AnswerButton,
    AnswerPreCheckout,
    CopyMessage,
    EditKeyboard,
    EditText,
    SendDocument,
    SendInvoice,
    SendText,
    SetCommands,
)
from store.domain.model import StarTransaction

log = logging.getLogger(__name__)

NO_CHAT = 0
"""Answers to a button or pre-checkout are not messages to a chat and are not paced."""


class TelegramPort(Protocol):
    """Each method raises bot.sender's RetryAfter / TransientSendError / PermanentSendError."""

    async def send_text(self, action: SendText) -> int: ...
    async def copy_message(self, action: CopyMessage) -> None: ...
    async def edit_text(self, action: EditText) -> None: ...
    async def edit_keyboard(self, action: EditKeyboard) -> None: ...
    async def answer_button(self, action: AnswerButton) -> None: ...
    async def send_invoice(self, action: SendInvoice) -> None: ...
    async def answer_pre_checkout(self, action: AnswerPreCheckout) -> None: ...
    async def send_document(self, action: SendDocument) -> None: ...
    async def refund_star_payment(self, user_id: int, charge_id: str) -> None: ...
    async def set_commands(
        self, commands: list[tuple[str, str]], language_code: str | None, chat_id: int | None = None
    ) -> None:
        """setMyCommands; with `chat_id`, for that chat only (BotCommandScopeChat)."""

    async def set_description(
        self, description: str, short_description: str, language_code: str | None
    ) -> None:
        """setMyDescription and setMyShortDescription: what an empty chat shows."""

    async def delete_webhook(self) -> None: ...
    async def star_transactions(self, offset: int, limit: int) -> Sequence[StarTransaction]: ...


class ActionExecutor:
    """Carries out the conversation's actions through the one sender, in order."""

    def __init__(self, port: TelegramPort, sender: OutgoingSender) -> None:
        self.port = port
        self.sender = sender

    async def perform(self, actions: list[Action], priority: Priority = Priority.REPLY) -> None:
        """In order; a query Telegram no longer takes an answer to (a button pressed before a
        restart, a checkout that timed out) is skipped, so the messages after it still go."""
        for action in actions:
            try:
                await self.send(action, priority)
            except PermanentSendError as error:
                # A chat's command menu is a convenience: a chat that cannot take one (an agent
                # who never opened the bot) must not stop the messages after it.
                if not isinstance(action, AnswerButton | AnswerPreCheckout | SetCommands):
                    raise
                log.warning("Telegram refused %s: %s", type(action).__name__, error)

    async def send(self, action: Action, priority: Priority = Priority.REPLY) -> int | None:
        """One action; the id of the message that now shows it (sent, or edited), if any."""
        port = self.port
        match action:
            case SendText():
                return await self.sender.send(
                    action.chat_id, lambda: port.send_text(action), priority=priority
                )
            case CopyMessage():
                await self.sender.send(
                    action.chat_id, lambda: port.copy_message(action), priority=priority
                )
            case EditText():
                try:
                    await self.sender.send(
                        action.chat_id, lambda: port.edit_text(action), priority=priority
                    )
                except PermanentSendError:
                    if action.fallback is None:
                        raise
                    return await self.send(action.fallback, priority)
                return action.message_id
            case EditKeyboard():
                await self.sender.send(
                    action.chat_id, lambda: port.edit_keyboard(action), priority=priority
                )
            case SendInvoice():
                await self.sender.send(
                    action.chat_id, lambda: port.send_invoice(action), priority=priority
                )
            case SendDocument():
                await self.sender.send(
                    action.chat_id, lambda: port.send_document(action), priority=priority
                )
            case AnswerButton():
                await self.sender.send(NO_CHAT, lambda: port.answer_button(action), counts=False)
            case SetCommands():
                await self.sender.send(
                    NO_CHAT,
                    lambda: port.set_commands(
                        list(action.commands), action.language_code, action.chat_id
                    ),
                    counts=False,
                )
            case AnswerPreCheckout():
                await self.sender.send(
                    NO_CHAT, lambda: port.answer_pre_checkout(action), counts=False
                )
        return None
