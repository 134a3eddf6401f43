"""The default runtime: aiogram's client and types, translating updates to events and actions to
calls. Polling itself is the shared durable intake (bot/intake.py), not aiogram's dispatcher,
which would confirm each update to Telegram before it is recorded."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    LinkPreviewOptions,
    Message,
    Update,
)

from bot import incoming
from bot.intake import ALLOWED_UPDATES
from bot.sender import PermanentSendError, RetryAfter, TransientSendError
from handlers.action import (
    AnswerButton,
    AnswerPreCheckout,
    CopyMessage,
    EditKeyboard,
    EditText,
    Keyboard,
    SendDocument,
    SendInvoice,
    SendText,
)
from handlers.event import Event
from store.domain.model import StarTransaction

log = logging.getLogger(__name__)
NOT_MODIFIED = "message is not modified"


@asynccontextmanager
async def _translated_errors() -> AsyncIterator[None]:
    """aiogram's exceptions, as the sender's three kinds."""
    try:
        yield
    except TelegramRetryAfter as error:
        raise RetryAfter(float(error.retry_after)) from error
    except (TelegramNetworkError, TelegramServerError) as error:
        raise TransientSendError(type(error).__name__) from error
    except TelegramAPIError as error:
        raise PermanentSendError(error.message) from error


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=b.text, callback_data=b.data, url=b.url, pay=b.pay or None
                )
                for b in row
            ]
            for row in keyboard
        ]
    )


class AiogramPort:
    """TelegramPort on an aiogram Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(self, action: SendText) -> int:
        async with _translated_errors():
            sent = await self.bot.send_message(
                action.chat_id,
                action.html,
                reply_markup=_markup(action.keyboard),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        return sent.message_id

    async def copy_message(self, action: CopyMessage) -> None:
        async with _translated_errors():
            await self.bot.copy_message(
                chat_id=action.chat_id,
                from_chat_id=action.from_chat_id,
                message_id=action.message_id,
                caption=action.caption_html,
                reply_markup=_markup(action.keyboard),
            )

    async def edit_text(self, action: EditText) -> None:
        try:
            async with _translated_errors():
                await self.bot.edit_message_text(
                    text=action.html,
                    chat_id=action.chat_id,
                    message_id=action.message_id,
                    reply_markup=_markup(action.keyboard),
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
        except PermanentSendError as error:
            if NOT_MODIFIED not in str(error).lower():  # pressing the same button twice is fine
                raise

    async def edit_keyboard(self, action: EditKeyboard) -> None:
        try:
            async with _translated_errors():
                await self.bot.edit_message_reply_markup(
                    chat_id=action.chat_id,
                    message_id=action.message_id,
                    reply_markup=_markup(action.keyboard),
                )
        except PermanentSendError as error:
            if NOT_MODIFIED not in str(error).lower():  # the buttons were gone already
                raise

    async def answer_button(self, action: AnswerButton) -> None:
        async with _translated_errors():
            await self.bot.answer_callback_query(
                action.callback_id, text=action.text, show_alert=action.alert
            )

    async def send_invoice(self, action: SendInvoice) -> None:
        async with _translated_errors():
            await self.bot.send_invoice(
                chat_id=action.chat_id,
                title=action.title,
                description=action.description,
                payload=action.payload,
                currency="XTR",
                prices=[LabeledPrice(label=action.label, amount=action.stars)],
                reply_markup=_markup(action.keyboard),
            )

    async def answer_pre_checkout(self, action: AnswerPreCheckout) -> None:
        async with _translated_errors():
            await self.bot.answer_pre_checkout_query(
                action.query_id, ok=action.ok, error_message=action.error_message
            )

    async def send_document(self, action: SendDocument) -> None:
        async with _translated_errors():
            await self.bot.send_document(
                action.chat_id,
                BufferedInputFile(action.content, filename=action.file_name),
                caption=action.caption_html or None,
                reply_markup=_markup(action.keyboard),
            )

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        async with _translated_errors():
            await self.bot.refund_star_payment(
                user_id=user_id, telegram_payment_charge_id=charge_id
            )

    async def set_commands(
        self, commands: list[tuple[str, str]], language_code: str | None, chat_id: int | None = None
    ) -> None:
        scope = None if chat_id is None else BotCommandScopeChat(chat_id=chat_id)
        async with _translated_errors():
            await self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in commands],
                scope=scope,
                language_code=language_code,
            )

    async def set_description(
        self, description: str, short_description: str, language_code: str | None
    ) -> None:
        async with _translated_errors():
            await self.bot.set_my_description(description=description, language_code=language_code)
            await self.bot.set_my_short_description(
                short_description=short_description, language_code=language_code
            )

    async def delete_webhook(self) -> None:
        """Long polling needs no webhook set; pending updates are kept (they are ours)."""
        async with _translated_errors():
            await self.bot.delete_webhook(drop_pending_updates=False)

    async def star_transactions(self, offset: int, limit: int) -> Sequence[StarTransaction]:
        async with _translated_errors():
            found = await self.bot.get_star_transactions(offset=offset, limit=limit)
        return [incoming.star_transaction(t) for t in found.transactions]


class AiogramUpdates:
    """UpdateSource on an aiogram Bot: getUpdates with our offset, updates parsed by aiogram."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def fetch_updates(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        updates = await self.bot(
            GetUpdates(offset=offset, timeout=wait, allowed_updates=list(ALLOWED_UPDATES)),
            request_timeout=wait + 15,
        )
        return [u.model_dump(mode="json", exclude_none=True, by_alias=True) for u in updates]

    def event_from_update(self, update: Mapping[str, Any]) -> Event | None:
        parsed = Update.model_validate(dict(update), context={"bot": self.bot})
        if parsed.pre_checkout_query is not None:
            return incoming.event_from_pre_checkout(parsed.pre_checkout_query)
        if parsed.callback_query is not None:
            return incoming.event_from_callback(parsed.callback_query, downloader(self.bot))
        if parsed.message is not None:
            return event_from_message(parsed.message, self.bot)
        return None


def downloader(bot: Bot) -> incoming.Download:
    """A file the bot can read, by its file_id."""

    async def download(file_id: str) -> bytes:
        buffer = io.BytesIO()
        await bot.download(file_id, destination=buffer)
        return buffer.getvalue()

    return download


def event_from_message(message: Message, bot: Bot) -> Event | None:
    """The one place aiogram messages become Kamibot events."""
    return incoming.event_from_message(message, downloader(bot))


def build_bot(token: str, api_base: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


__all__ = ["AiogramPort", "AiogramUpdates", "build_bot"]
