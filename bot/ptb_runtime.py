"""The second runtime: python-telegram-bot's client and types over the same conversation.
Polling is the shared durable intake (bot/intake.py), not PTB's Updater, which would confirm
each update to Telegram before it is recorded."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.error import RetryAfter as PtbRetryAfter
from telegram.ext import Application

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

NOT_MODIFIED = "message is not modified"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _seconds(error: PtbRetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@asynccontextmanager
async def _translated_errors() -> AsyncIterator[None]:
    try:
        yield
    except PtbRetryAfter as error:
        raise RetryAfter(_seconds(error)) from error
    except BadRequest as error:  # a subclass of NetworkError, but not transient
        raise PermanentSendError(error.message) from error
    except NetworkError as error:
        raise TransientSendError(type(error).__name__) from error
    except TelegramError as error:
        raise PermanentSendError(error.message) from error


def _markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, callback_data=b.data, url=b.url, pay=b.pay or None)
                for b in row
            ]
            for row in keyboard
        ]
    )


class PtbPort:
    """TelegramPort on a python-telegram-bot Bot."""

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.bot = application.bot

    async def send_text(self, action: SendText) -> int:
        async with _translated_errors():
            sent = await self.bot.send_message(
                action.chat_id,
                action.html,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(action.keyboard),
                link_preview_options=NO_PREVIEW,
            )
        return int(sent.message_id)

    async def copy_message(self, action: CopyMessage) -> None:
        async with _translated_errors():
            await self.bot.copy_message(
                action.chat_id,
                action.from_chat_id,
                action.message_id,
                caption=action.caption_html,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(action.keyboard),
            )

    async def edit_text(self, action: EditText) -> None:
        try:
            async with _translated_errors():
                await self.bot.edit_message_text(
                    action.html,
                    chat_id=action.chat_id,
                    message_id=action.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=_markup(action.keyboard),
                    link_preview_options=NO_PREVIEW,
                )
        except PermanentSendError as error:
            if NOT_MODIFIED not in str(error).lower():  # PTB capitalises what Telegram says
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
                prices=[LabeledPrice(action.label, action.stars)],
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
                action.content,
                filename=action.file_name,
                caption=action.caption_html or None,
                parse_mode=ParseMode.HTML,
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
        scope = None if chat_id is None else BotCommandScopeChat(chat_id)
        async with _translated_errors():
            await self.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], scope=scope, language_code=language_code
            )

    async def set_description(
        self, description: str, short_description: str, language_code: str | None
    ) -> None:
        async with _translated_errors():
            await self.bot.set_my_description(description, language_code=language_code)
            await self.bot.set_my_short_description(short_description, language_code=language_code)

    async def delete_webhook(self) -> None:
        """Long polling needs no webhook set; pending updates are kept (they are ours)."""
        async with _translated_errors():
            await self.bot.delete_webhook(drop_pending_updates=False)

    async def star_transactions(self, offset: int, limit: int) -> Sequence[StarTransaction]:
        async with _translated_errors():
            found = await self.bot.get_star_transactions(offset=offset, limit=limit)
        return [incoming.star_transaction(t) for t in found.transactions]


class PtbUpdates:
    """UpdateSource on a PTB Bot: getUpdates with our offset, updates parsed by PTB."""

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.bot = application.bot

    async def fetch_updates(self, offset: int | None, wait: int) -> list[dict[str, Any]]:
        updates = await self.bot.get_updates(
            offset=offset,
            timeout=wait,
            allowed_updates=list(ALLOWED_UPDATES),
            read_timeout=wait + 15,
        )
        return [update.to_dict() for update in updates]

    def event_from_update(self, update: Mapping[str, Any]) -> Event | None:
        return event_from_update(Update.de_json(dict(update), self.bot), self.bot)


def event_from_update(update: Update, bot: Bot) -> Event | None:
    """The one place PTB updates become Kamibot events."""

    async def download(file_id: str) -> bytes:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    if update.pre_checkout_query is not None:
        return incoming.event_from_pre_checkout(update.pre_checkout_query)
    if update.callback_query is not None:
        return incoming.event_from_callback(update.callback_query, download)
    if update.message is None:
        return None
    return incoming.event_from_message(update.message, download)


def build_application(token: str, api_base: str) -> Application:  # type: ignore[type-arg]
    """PTB's client, configured; no Updater runs (the intake polls), so nothing confirms early."""
    return (
        Application.builder()
        .token(token)
        .base_url(f"{api_base}/bot")
        .base_file_url(f"{api_base}/file/bot")
        .updater(None)
        .build()
    )
