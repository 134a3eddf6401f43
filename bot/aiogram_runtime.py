"""The default runtime: aiogram long polling, translating updates to events and actions to calls."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    LinkPreviewOptions,
    Message,
    PreCheckoutQuery,
)

from bot import incoming
from bot.sender import PermanentSendError, RetryAfter, TransientSendError
from handlers.event import (
    Event,
)
from handlers.reply import (
    AnswerButton,
    AnswerPreCheckout,
    CopyMessage,
    EditText,
    Keyboard,
    SendDocument,
    SendInvoice,
    SendText,
)

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
            if NOT_MODIFIED not in str(error):  # pressing the same button twice is fine
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
            )

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        async with _translated_errors():
            await self.bot.refund_star_payment(
                user_id=user_id, telegram_payment_charge_id=charge_id
            )

    async def set_commands(
        self, commands: list[tuple[str, str]], language_code: str | None
    ) -> None:
        async with _translated_errors():
            await self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in commands],
                language_code=language_code,
            )


def event_from_message(message: Message, bot: Bot) -> Event | None:
    """The one place aiogram messages become Kamibot events."""

    async def download(file_id: str) -> bytes:
        buffer = io.BytesIO()
        await bot.download(file_id, destination=buffer)
        return buffer.getvalue()

    return incoming.event_from_message(message, download)


def build_bot(token: str, api_base: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def build_dispatcher(bot: Bot, on_event: Callable[[Event], Awaitable[None]]) -> Dispatcher:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def _message(message: Message) -> None:
        event = event_from_message(message, bot)
        if event is not None:
            await on_event(event)

    @dispatcher.callback_query()
    async def _callback(query: CallbackQuery) -> None:
        event = incoming.event_from_callback(query)
        if event is not None:
            await on_event(event)

    @dispatcher.pre_checkout_query()
    async def _pre_checkout(query: PreCheckoutQuery) -> None:
        await on_event(incoming.event_from_pre_checkout(query))

    return dispatcher


async def run_polling(bot: Bot, dispatcher: Dispatcher, **kwargs: Any) -> None:
    await dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False, **kwargs)


__all__ = ["AiogramPort", "F", "build_bot", "build_dispatcher", "run_polling"]
