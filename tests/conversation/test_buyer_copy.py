"""What a buyer reads, as a native speaker would write it: totals on Buy, no "×1" after a name
that holds a number, one key in the singular, no page number on a one-page list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.context import ShopContext
from handlers.handoff import standing_text
from handlers.outbox import render_outbox
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import (
    Language,
    QueueStanding,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from store.domain.outbox import OutboxKind
from store.domain.shop_time import ShopTime
from store.services.outbox import claim_outbox
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay, html
from tests.factories import order_id_on, paid, press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

GEMS = "原神 创世结晶 ×60"


async def test_buy_buttons_show_the_total_of_each_quantity(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=12)
    card = await dispatch(press("prod:STEAM-50"), ctx)
    labels = [b.text for b in buttons(card) if b.data and b.data.startswith("buy:")]
    assert labels == ["Buy ×1 · ¥48.00", "Buy ×2 · ¥96.00", "Buy ×5 · ¥240.00", "Buy ×10 · ¥480.00"]
    zh = await dispatch(press("prod:STEAM-50", user_id=3003, language_code="zh-hans"), ctx)
    assert "购买 ×5 · ¥240.00" in [b.text for b in buttons(zh)]


async def test_a_name_holding_a_number_is_not_followed_by_times_one(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3, name_zh=GEMS)
    one = await dispatch(press("buy:STEAM-50:1", language_code="zh-hans"), ctx)
    assert f"{GEMS}\n" in html(one) and "×60 ×1" not in html(one)
    two = await dispatch(press("buy:STEAM-50:2", user_id=3003, language_code="zh-hans"), ctx)
    assert f"{GEMS}（2 份）" in html(two)
    orders = await dispatch(text("/orders", language_code="zh-hans"), ctx)
    assert not any("×60 ×1" in b.text for b in buttons(orders))


async def test_one_key_is_ready_in_the_singular_and_two_keys_in_the_plural(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    one = await dispatch(press("buy:STEAM-50:1"), ctx)
    one_id = await order_id_on(button(one, "paystars:"), ctx.uow)
    await dispatch(paid(f"order:{one_id}", 480), ctx)
    two = await dispatch(press("buy:STEAM-50:2", user_id=3003), ctx)
    two_id = await order_id_on(button(two, "paystars:"), ctx.uow)
    await dispatch(paid(f"order:{two_id}", 960, user_id=3003), ctx)
    told = {
        item.chat_id: html(list((await render_outbox(item, ctx)).actions))
        for item in await claim_outbox(uow(), now=clock.now())
        if item.kind is OutboxKind.DELIVERY
    }
    assert "Your key is ready" in told[1001] and "see it." in told[1001]
    assert "Your keys are ready" in told[3003] and "2 × Steam Wallet" in told[3003]


async def test_a_one_page_list_shows_no_page_number_and_a_longer_one_does(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=12)
    category = await dispatch(press("cat:game:0", user_id=3003, language_code="zh-hans"), ctx)
    assert "页" not in html(category)
    await buy_and_pay(ctx)
    one_page = await dispatch(text("/orders"), ctx)
    assert "page" not in html(one_page)
    for _ in range(5):
        await buy_and_pay(ctx)
    two_pages = await dispatch(text("/orders"), ctx)
    assert "(page 1/2)" in html(two_pages)


async def test_nothing_to_refund_is_said_plainly(ctx: ShopContext) -> None:
    said = html(await dispatch(press("refunds"), ctx))
    assert said.startswith("None of your orders can be refunded straight away")
    assert "without questions" not in said


def _standing(position: int) -> QueueStanding:
    now = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
    ticket = Ticket(
        1, 1001, TicketStatus.QUEUED, TicketPriority.GENERAL, "general", None, None, "", now
    )
    return QueueStanding(ticket, position, 180, 1)


async def test_the_first_in_the_queue_is_told_they_are_next_not_that_nobody_is_ahead(
    ctx: ShopContext,
) -> None:
    now = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
    first = standing_text(Language.ZH, _standing(1), ShopTime(), now)
    assert "下一位就是您" in first and "0" not in first
    third = standing_text(Language.ZH, _standing(3), ShopTime(), now)
    assert "您排在第 3 位，前面还有 2 人" in third
    assert "You're next" in standing_text(Language.EN, _standing(1), ShopTime(), now)
