"""/stats for a shop, fed events: today's sales (in the shop's zone) next to its support."""

from __future__ import annotations

import pytest

from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.conversation.conftest import ADMIN
from tests.conversation.test_shop_flow import buy_and_pay, html
from tests.factories import press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


async def test_stats_show_todays_orders_revenue_refunds_and_top_products_before_support(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=10)
    await buy_and_pay(ctx, quantity=2, user_id=2001)
    refunded = await buy_and_pay(ctx, user_id=2002)
    await dispatch(press(f"refund:{refunded}", 2002), ctx)  # keys never shown: refunded at once
    stats = html(await dispatch(text("/stats", user_id=ADMIN), ctx))
    assert "🛒 <b>Sales today</b>\nOrders: 2\nRevenue: 1440 ⭐\nRefunds: 1 (480 ⭐)" in stats
    assert "Top products:\n  Steam Wallet ¥50 ×3 (orders: 2)" in stats
    assert stats.index("Sales today") < stats.index("📊 <b>Support today</b>")


async def test_stats_count_the_day_from_midnight_in_the_shops_zone_not_utc(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=10)
    await buy_and_pay(ctx, user_id=2001)  # 12:00 UTC is 20:00 in Beijing
    clock.advance(hours=6)  # 18:00 UTC: the same day in UTC, the next one in Beijing
    stats = html(await dispatch(text("/stats", user_id=ADMIN), ctx))
    assert "Orders: 0\nRevenue: ¥0.00\nRefunds: 0 (¥0.00)\nTop products: none" in stats


async def test_stats_are_for_admins_only(ctx: ShopContext) -> None:
    assert "admins only" in html(await dispatch(text("/stats", user_id=2001), ctx))
