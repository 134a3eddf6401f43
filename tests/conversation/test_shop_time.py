"""Shop time: every time a buyer sees is in SHOP_TIMEZONE, and support hours are read in it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.shop_time import ShopTime, parse_support_hours
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import buy_and_pay, html
from tests.conversation.test_support_flow import seen_by, sent_later
from tests.factories import press, stocked_shop, text

BUYER = 1001


@pytest.fixture
def ctx(ctx: ShopContext, knowledge: KnowledgeBase, faq: FaqMatcher) -> ShopContext:
    """Free text goes to the FAQ matcher, so "人工" asks for a person."""
    return replace(ctx, knowledge=knowledge, faq=faq)


async def test_a_held_order_shows_its_hold_in_beijing_time_in_chinese(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)  # the clock reads 12:00 UTC: 20:00 in Beijing
    held = await dispatch(press("buy:STEAM-50:1", language_code="zh-hans"), ctx)
    assert "保留至 北京时间 20:15（15 分钟）" in html(held)
    assert "UTC" not in html(held)


async def test_an_english_buyer_reads_the_same_hold_as_beijing_time(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    held = await dispatch(press("buy:STEAM-50:1"), ctx)
    assert "held until 20:15 Beijing time (15 minutes)" in html(held)


async def test_a_shop_in_another_zone_shows_its_own_zone_by_name(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    london = replace(ctx, shop_time=ShopTime(zone="Europe/London"))
    held = await dispatch(press("buy:STEAM-50:1"), london)
    assert "held until 12:15 Europe/London" in html(held)


async def test_an_orders_placing_time_is_in_shop_time(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await buy_and_pay(ctx)
    english = await dispatch(press(f"order:{order_id}"), ctx)
    assert "Placed: 2026-11-25 20:00 Beijing time" in html(english)


async def test_nobody_on_duty_within_support_hours_is_not_called_after_hours(
    ctx: ShopContext,
) -> None:
    queued = [*await dispatch(text("人工"), ctx), *await sent_later(ctx)]  # 20:00 in Beijing
    seen = seen_by(queued, BUYER)
    assert "Nobody is on duty right now" in seen and "09:00-23:00 Beijing time" in seen
    assert "🌙" not in seen and "after hours" not in seen


async def test_outside_support_hours_the_buyer_is_told_it_is_after_hours_with_a_moon(
    ctx: ShopContext, clock: FakeClock
) -> None:
    clock.advance(hours=4)  # 16:00 UTC is midnight in Beijing
    queued = [*await dispatch(text("人工", language_code="zh-hans"), ctx), *await sent_later(ctx)]
    seen = seen_by(queued, BUYER)
    assert seen.startswith("🌙 现在是非服务时间（人工客服 北京时间 09:00-23:00）")


async def test_support_hours_are_read_in_the_shops_zone_not_in_utc(
    ctx: ShopContext,
) -> None:
    # 12:00 UTC is within 09:00-17:00 in UTC, but 20:00 in Beijing is after those hours.
    short_day = replace(ctx, shop_time=ShopTime(hours=parse_support_hours("09:00-17:00")))
    queued = [*await dispatch(text("human please"), short_day), *await sent_later(short_day)]
    assert "🌙 It's after hours" in seen_by(queued, BUYER)
