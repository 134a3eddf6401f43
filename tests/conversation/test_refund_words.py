"""Refunds say where the money went; a report of an order's only key does not ask which key."""

from __future__ import annotations

import pytest

from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay, html
from tests.conversation.test_support_flow import reference_of
from tests.factories import order_id_on, press, stocked_shop

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


async def test_a_wallet_refund_names_the_amount_back_in_the_wallet_and_the_balance_now(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    await credit_wallet(
        uow(), user_id=1001, amount_minor=1230, reason="gift", idempotency_key="g", now=clock.now()
    )
    await credit_wallet(
        uow(), user_id=1001, amount_minor=4800, reason="gift", idempotency_key="h", now=clock.now()
    )
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    pay = button(bought, "paywallet:")
    await dispatch(press(pay), ctx)
    order_id = await order_id_on(pay, ctx.uow)
    refunded = await dispatch(press(f"refund:{order_id}"), ctx)
    said = f"Order {await reference_of(ctx, order_id)} refunded: ¥48.00 back to your wallet"
    assert f"{said} (balance ¥60.30)." in html(refunded)


async def test_a_stars_refund_names_the_stars_back_in_the_telegram_balance(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    refunded = await dispatch(press(f"refund:{order_id}"), ctx)
    assert "480 ⭐ back to your Telegram balance" in html(refunded)


async def test_a_chinese_wallet_refund_says_it_went_back_to_the_balance(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    await credit_wallet(
        uow(), user_id=1001, amount_minor=4800, reason="gift", idempotency_key="g", now=clock.now()
    )
    await dispatch(press("lang:zh"), ctx)
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    pay = button(bought, "paywallet:")
    await dispatch(press(pay), ctx)
    order_id = await order_id_on(pay, ctx.uow)
    refunded = await dispatch(press(f"refund:{order_id}"), ctx)
    assert "¥48.00 已退回您的余额（当前余额 ¥48.00）" in html(refunded)


async def test_reporting_the_only_key_of_an_order_goes_straight_to_what_went_wrong(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    asked = await dispatch(press(f"bad:{order_id}"), ctx)
    assert "What went wrong?" in html(asked) and "Which key?" not in html(asked)
    assert all(b.data and b.data.startswith(f"badr:{order_id}:") for b in buttons(asked))


async def test_reporting_a_key_of_an_order_of_two_still_asks_which_key(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx, quantity=2)
    await dispatch(press(f"keys:{order_id}"), ctx)
    asked = await dispatch(press(f"bad:{order_id}"), ctx)
    assert "Which key?" in html(asked) and button(asked, f"badk:{order_id}:")
