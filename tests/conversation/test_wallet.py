"""The wallet screen says why each entry was written in the buyer's own language."""

from __future__ import annotations

import pytest

from handlers.action import SendInvoice, SendText
from handlers.context import ShopContext
from handlers.router import dispatch
from sandbox.html_entities import parse_html
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button
from tests.conversation.test_support_flow import reference_of
from tests.factories import order_id_on, paid, pre_checkout, press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

ZH = "zh-hans"


async def wallet_screen(ctx: ShopContext, language_code: str) -> str:
    [screen] = await dispatch(text("/wallet", language_code=language_code), ctx)
    assert isinstance(screen, SendText)
    return parse_html(screen.html).text


async def test_a_chinese_buyer_reads_every_wallet_entry_in_chinese(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    await credit_wallet(
        uow(), user_id=1001, amount_minor=5000, reason="补偿", idempotency_key="g", now=clock.now()
    )
    invoiced = await dispatch(press("topup:100", language_code=ZH), ctx)
    [invoice] = [a for a in invoiced if isinstance(a, SendInvoice)]
    await dispatch(pre_checkout(invoice.payload, invoice.stars), ctx)
    await dispatch(paid(invoice.payload, invoice.stars), ctx)
    bought = await dispatch(press("buy:STEAM-50:1", language_code=ZH), ctx)
    pay = button(bought, "paywallet:")
    order_id = await order_id_on(pay, ctx.uow)
    await dispatch(press(pay, language_code=ZH), ctx)
    await dispatch(press(f"refund:{order_id}", language_code=ZH), ctx)
    reference = await reference_of(ctx, order_id)

    screen = await wallet_screen(ctx, ZH)

    for said in (
        "管理员调整：补偿",
        "充值 100 ⭐",
        f"订单 {reference} 付款",
        f"订单 {reference} 退款",
    ):
        assert said in screen, screen
    for english in ("Admin", "Top-up", "Order ", "Refund"):
        assert english not in screen, screen


async def test_an_english_buyer_reads_the_same_entries_in_english(
    ctx: ShopContext, uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await credit_wallet(
        uow(),
        user_id=1001,
        amount_minor=50,
        reason="goodwill",
        idempotency_key="g",
        now=clock.now(),
    )
    invoiced = await dispatch(press("topup:50"), ctx)
    [invoice] = [a for a in invoiced if isinstance(a, SendInvoice)]
    await dispatch(pre_checkout(invoice.payload, invoice.stars), ctx)
    await dispatch(paid(invoice.payload, invoice.stars), ctx)

    screen = await wallet_screen(ctx, "en")

    assert "Admin: goodwill" in screen and "Top-up 50 Stars" in screen, screen
