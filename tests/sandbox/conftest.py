"""Fixtures for the sandbox tests: a running sandbox, a client for raw calls, a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)

from sandbox import Sandbox, UserProfile

TOKEN = "123456:TEST-token"


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class BotApiClient:
    """Raw Bot API calls over HTTP, the way any bot library makes them."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str = TOKEN) -> None:
        self.session = session
        self.base_url = base_url
        self.token = token

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        url = f"{self.base_url}/bot{self.token}/{method}"
        async with self.session.post(url, json=params) as response:
            return response.status, await response.json()

    async def result(self, method: str, **params: Any) -> Any:
        status, body = await self.call(method, **params)
        assert status == 200, body
        return body["result"]

    async def answer_next_pre_checkout(self, ok: bool, error: str | None = None) -> dict[str, Any]:
        """Poll (confirming as it goes) until a pre_checkout_query comes, and answer it."""
        while True:
            for update in await self.result("getUpdates", timeout=50):
                await self.result("getUpdates", offset=update["update_id"] + 1)
                if "pre_checkout_query" in update:
                    query: dict[str, Any] = update["pre_checkout_query"]
                    extra = {} if error is None else {"error_message": error}
                    await self.result(
                        "answerPreCheckoutQuery", pre_checkout_query_id=query["id"], ok=ok, **extra
                    )
                    return query


def build_router() -> Router:
    """Echo, a Buy button that sends a Stars invoice, pre-checkout approval, a paid reply."""
    router = Router()

    @router.message(CommandStart())
    async def on_start(message: Message) -> None:
        await message.answer(
            "Hello, <b>buyer</b> &amp; friend",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Buy", callback_data="buy:1")]]
            ),
        )

    @router.callback_query(F.data == "buy:1")
    async def on_buy_pressed(query: CallbackQuery, bot: Bot) -> None:
        await query.answer("Reserved")
        assert query.message is not None
        await bot.send_invoice(
            chat_id=query.message.chat.id,
            title="Key",
            description="One key",
            payload="order-1",
            currency="XTR",
            prices=[LabeledPrice(label="Key", amount=5)],
        )

    @router.pre_checkout_query()
    async def on_pre_checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def on_paid(message: Message) -> None:
        assert message.successful_payment is not None
        await message.answer(f"Paid {message.successful_payment.telegram_payment_charge_id}")

    @router.message(F.text)
    async def on_text(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[Sandbox]:
    box = Sandbox(TOKEN, users=[UserProfile(1001, "Li", "zh-hans")], clock=clock)
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[BotApiClient]:
    async with aiohttp.ClientSession() as session:
        yield BotApiClient(session, sandbox.base_url)


@pytest.fixture
async def aiogram_bot(sandbox: Sandbox) -> AsyncIterator[Dispatcher]:
    """A minimal real aiogram shop bot, long-polling the sandbox for the test's duration."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.base_url))
    bot = Bot(TOKEN, session=session)
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    await sandbox.wait_for_call("getUpdates")
    yield dispatcher
    await dispatcher.stop_polling()
    await polling
