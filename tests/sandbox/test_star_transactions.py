"""getStarTransactions as Telegram answers it: payments and refunds oldest first, paged, and
parsed by both aiogram and python-telegram-bot into their typed objects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import StarTransaction as AiogramStarTransaction
from aiogram.types import StarTransactions as AiogramStarTransactions
from aiogram.types import TransactionPartnerUser as AiogramTransactionPartnerUser

from sandbox import Sandbox, UserProfile
from sandbox.state import Invoice, Payment
from tests.sandbox.conftest import TOKEN, BotApiClient, FakeClock

LI = UserProfile(1001, "Li", "zh-hans")
ANA = UserProfile(1002, "Ana", "pt-br", username="ana_buys")
START = 1_700_000_000  # the wall clock's Unix time when the first payment goes through

# The User objects Telegram puts in the partners, written out rather than built by the sandbox.
LI_USER = {"id": 1001, "is_bot": False, "first_name": "Li", "language_code": "zh-hans"}
ANA_USER = {
    "id": 1002,
    "is_bot": False,
    "first_name": "Ana",
    "username": "ana_buys",
    "language_code": "pt-br",
}


def partner(user: dict[str, Any], payload: str) -> dict[str, Any]:
    return {
        "type": "user",
        "transaction_type": "invoice_payment",
        "user": user,
        "invoice_payload": payload,
    }


@dataclass(frozen=True)
class History:
    """Li paid order-1, Ana order-2, Li order-3, a minute apart; then Ana's order-2 was refunded."""

    sandbox: Sandbox
    api: BotApiClient
    order_1: str  # telegram_payment_charge_id of each payment, as the bot received it
    order_2: str
    order_3: str

    def expected(self) -> list[dict[str, Any]]:
        return [
            {
                "id": self.order_1,
                "amount": 5,
                "date": START,
                "source": partner(LI_USER, "order-1"),
            },
            {
                "id": self.order_2,
                "amount": 7,
                "date": START + 60,
                "source": partner(ANA_USER, "order-2"),
            },
            {
                "id": self.order_3,
                "amount": 9,
                "date": START + 120,
                "source": partner(LI_USER, "order-3"),
            },
            {
                "id": self.order_2,
                "amount": 7,
                "date": START + 180,
                "receiver": partner(ANA_USER, "order-2"),
            },
        ]


async def pay(api: BotApiClient, sandbox: Sandbox, user_id: int, payload: str, stars: int) -> str:
    """The bot sends an invoice, the user pays, the bot approves; the charge id the bot got."""
    await api.result(
        "sendInvoice",
        chat_id=user_id,
        title="Key",
        description="One key",
        payload=payload,
        currency="XTR",
        prices=[{"label": "Key", "amount": stars}],
    )
    paying = asyncio.create_task(sandbox.user(user_id).pay())
    await api.answer_next_pre_checkout(ok=True)
    result = await paying
    assert result.ok, result
    updates = await api.result("getUpdates")
    await api.result("getUpdates", offset=updates[-1]["update_id"] + 1)
    receipts = [u["message"]["successful_payment"] for u in updates if "message" in u]
    charge_id: str = receipts[-1]["telegram_payment_charge_id"]
    assert charge_id == result.telegram_payment_charge_id
    return charge_id


async def transactions(api: BotApiClient, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await api.result("getStarTransactions", **params))[
        "transactions"
    ]
    return found


@pytest.fixture
def wall_clock() -> FakeClock:
    clock = FakeClock()
    clock.now = float(START)
    return clock


@pytest.fixture
async def shop(wall_clock: FakeClock) -> AsyncIterator[tuple[Sandbox, BotApiClient]]:
    """A running sandbox on a fake wall clock; Li and Ana have both started the bot."""
    async with (
        Sandbox(TOKEN, users=[LI, ANA], wall_clock=wall_clock) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        for profile in (LI, ANA):
            await sandbox.user(profile.user_id).send_text("/start")
        api = BotApiClient(session, sandbox.base_url)
        await api.result("getUpdates", offset=-1)
        yield sandbox, api


@pytest.fixture
async def history(shop: tuple[Sandbox, BotApiClient], wall_clock: FakeClock) -> History:
    sandbox, api = shop
    order_1 = await pay(api, sandbox, LI.user_id, "order-1", 5)
    wall_clock.advance(60)
    order_2 = await pay(api, sandbox, ANA.user_id, "order-2", 7)
    wall_clock.advance(60)
    order_3 = await pay(api, sandbox, LI.user_id, "order-3", 9)
    wall_clock.advance(60)
    refund = {"user_id": ANA.user_id, "telegram_payment_charge_id": order_2}
    assert await api.result("refundStarPayment", **refund) is True
    return History(sandbox, api, order_1, order_2, order_3)


# --- the raw answer ---


async def test_payments_and_the_refund_are_listed_oldest_first_in_telegrams_shape(
    history: History,
) -> None:
    assert await transactions(history.api) == history.expected()
    assert len({history.order_1, history.order_2, history.order_3}) == 3


async def test_the_list_grows_as_payments_and_refunds_happen(
    shop: tuple[Sandbox, BotApiClient], wall_clock: FakeClock
) -> None:
    sandbox, api = shop
    assert await transactions(api) == []

    charge_id = await pay(api, sandbox, ANA.user_id, "order-9", 3)
    paid = {"id": charge_id, "amount": 3, "date": START, "source": partner(ANA_USER, "order-9")}
    assert await transactions(api) == [paid]

    wall_clock.advance(3600)
    refund = {"user_id": ANA.user_id, "telegram_payment_charge_id": charge_id}
    assert await api.result("refundStarPayment", **refund) is True
    refunded = {
        "id": charge_id,
        "amount": 3,
        "date": START + 3600,
        "receiver": partner(ANA_USER, "order-9"),
    }
    assert await transactions(api) == [paid, refunded]


@pytest.mark.parametrize("limit", [1, 2, 3])
async def test_small_pages_walk_the_whole_history_without_gaps_or_repeats(
    history: History, limit: int
) -> None:
    pages: list[list[dict[str, Any]]] = []
    offset = 0
    while page := await transactions(history.api, offset=offset, limit=limit):
        assert len(page) <= limit
        pages.append(page)
        offset += len(page)
    assert [t for page in pages for t in page] == history.expected()
    assert len(pages) == -(-4 // limit)  # four transactions, `limit` to a page


async def test_an_offset_or_limit_out_of_range_is_clamped_as_telegram_clamps_it(
    history: History,
) -> None:
    everything = history.expected()
    assert await transactions(history.api, limit=0) == everything[:1]
    assert await transactions(history.api, limit=-7) == everything[:1]
    assert await transactions(history.api, offset=-3, limit=2) == everything[:2]
    assert await transactions(history.api, offset=3, limit=100) == everything[3:]
    assert await transactions(history.api, offset=4) == []
    assert await transactions(history.api, offset=1000) == []


async def test_at_most_a_hundred_transactions_come_in_one_answer(
    shop: tuple[Sandbox, BotApiClient],
) -> None:
    sandbox, api = shop
    invoice = Invoice("Key", "One key", "bulk", "XTR", 1)
    for number in range(105):
        payment = Payment(f"charge-{number}", f"provider-{number}", LI.user_id, invoice, START)
        sandbox.state.record_transaction(payment, LI, refund=False)

    first = await transactions(api, limit=500)
    assert [t["id"] for t in first] == [f"charge-{n}" for n in range(100)]
    assert await transactions(api) == first
    assert [t["id"] for t in await transactions(api, offset=100)] == [
        f"charge-{n}" for n in range(100, 105)
    ]


async def test_a_refused_refund_adds_no_transaction(history: History) -> None:
    async def refusal(**params: Any) -> str:
        status, body = await history.api.call("refundStarPayment", **params)
        assert (status, body["ok"]) == (400, False), body
        description: str = body["description"]
        return description

    assert (
        await refusal(user_id=ANA.user_id, telegram_payment_charge_id=history.order_2)
        == "Bad Request: CHARGE_ALREADY_REFUNDED"
    )
    assert (
        await refusal(user_id=ANA.user_id, telegram_payment_charge_id=history.order_1)
        == "Bad Request: CHARGE_NOT_FOUND"
    )  # Li's charge, not Ana's
    assert (
        await refusal(user_id=LI.user_id, telegram_payment_charge_id="stxNOPE")
        == "Bad Request: CHARGE_NOT_FOUND"
    )
    assert (
        await refusal(telegram_payment_charge_id=history.order_1)
        == "Bad Request: invalid user_id specified"
    )
    assert (
        await refusal(user_id=LI.user_id)
        == 'Bad Request: parameter "telegram_payment_charge_id" is required'
    )
    assert await transactions(history.api) == history.expected()


# --- both libraries read it ---


def at(offset_seconds: int) -> datetime:
    return datetime.fromtimestamp(START + offset_seconds, tz=UTC)


async def test_aiogram_parses_every_transaction_including_the_refund(history: History) -> None:
    server = TelegramAPIServer.from_base(history.sandbox.base_url)
    bot = Bot(TOKEN, session=AiohttpSession(api=server))
    try:
        pages = [
            await bot.get_star_transactions(offset=0, limit=3),
            await bot.get_star_transactions(offset=3, limit=3),
        ]
    finally:
        await bot.session.close()

    assert all(isinstance(page, AiogramStarTransactions) for page in pages)
    parsed = [t for page in pages for t in page.transactions]
    assert all(isinstance(t, AiogramStarTransaction) for t in parsed)
    assert [(t.id, t.amount, t.nanostar_amount, t.date) for t in parsed] == [
        (history.order_1, 5, None, at(0)),
        (history.order_2, 7, None, at(60)),
        (history.order_3, 9, None, at(120)),
        (history.order_2, 7, None, at(180)),
    ]
    assert [(t.source is None, t.receiver is None) for t in parsed] == [
        (False, True),
        (False, True),
        (False, True),
        (True, False),
    ]
    partners = [t.source or t.receiver for t in parsed]
    assert all(isinstance(p, AiogramTransactionPartnerUser) for p in partners)
    assert [
        (p.type, p.transaction_type, p.user.id, p.user.first_name, p.invoice_payload)
        for p in partners
        if isinstance(p, AiogramTransactionPartnerUser)
    ] == [
        ("user", "invoice_payment", 1001, "Li", "order-1"),
        ("user", "invoice_payment", 1002, "Ana", "order-2"),
        ("user", "invoice_payment", 1001, "Li", "order-3"),
        ("user", "invoice_payment", 1002, "Ana", "order-2"),
    ]


async def test_python_telegram_bot_parses_every_transaction_including_the_refund(
    history: History,
) -> None:
    async with telegram.Bot(TOKEN, base_url=history.sandbox.base_url + "/bot") as bot:
        pages = [
            await bot.get_star_transactions(offset=0, limit=2),
            await bot.get_star_transactions(offset=2, limit=2),
            await bot.get_star_transactions(offset=4, limit=2),
        ]

    assert all(isinstance(page, telegram.StarTransactions) for page in pages)
    assert [len(page.transactions) for page in pages] == [2, 2, 0]
    parsed = [t for page in pages for t in page.transactions]
    assert all(isinstance(t, telegram.StarTransaction) for t in parsed)
    assert [(t.id, t.amount, t.nanostar_amount, t.date) for t in parsed] == [
        (history.order_1, 5, None, at(0)),
        (history.order_2, 7, None, at(60)),
        (history.order_3, 9, None, at(120)),
        (history.order_2, 7, None, at(180)),
    ]
    assert [(t.source is None, t.receiver is None) for t in parsed] == [
        (False, True),
        (False, True),
        (False, True),
        (True, False),
    ]
    partners = [t.source or t.receiver for t in parsed]
    assert all(isinstance(p, telegram.TransactionPartnerUser) for p in partners)
    assert [
        (p.type, p.transaction_type, p.user.id, p.user.username, p.invoice_payload)
        for p in partners
        if isinstance(p, telegram.TransactionPartnerUser)
    ] == [
        ("user", "invoice_payment", 1001, None, "order-1"),
        ("user", "invoice_payment", 1002, "ana_buys", "order-2"),
        ("user", "invoice_payment", 1001, None, "order-3"),
        ("user", "invoice_payment", 1002, "ana_buys", "order-2"),
    ]
