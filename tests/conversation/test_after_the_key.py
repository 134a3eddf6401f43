"""After the key: what the key message offers, spent buttons going away, the wallet refreshed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.action import Action, AnswerButton, EditKeyboard, EditText, SendText
from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay
from tests.conversation.test_support_flow import agent_says, open_ticket_with_agent, reference_of
from tests.factories import paid, press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@pytest.fixture
def ctx(ctx: ShopContext, knowledge: KnowledgeBase, faq: FaqMatcher) -> ShopContext:
    return replace(ctx, knowledge=knowledge, faq=faq)


def buttons_taken_from(actions: list[Action], message_id: int) -> bool:
    """The pressed message lost its buttons, after the press was answered."""
    gone = [a for a in actions if isinstance(a, EditKeyboard)]
    return (
        gone == [EditKeyboard(1001, message_id, None)]
        and isinstance(actions[0], AnswerButton)
        and actions.index(gone[0]) == 1
    )


async def test_the_key_message_offers_a_report_my_orders_and_more_shopping_and_says_tap_to_copy(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    [message] = [a for a in shown if isinstance(a, SendText)]
    assert "<code>" in message.html and "Tap a key to copy it." in message.html
    reference = await reference_of(ctx, order_id)
    assert [b.data for b in buttons([message])] == [f"bad:{reference}", "orders:0", "shop"]
    assert [b.text for b in buttons([message])] == [
        "⚠️ My key doesn't work",
        "📦 My orders",
        "🛒 Continue shopping",
    ]


async def test_the_chinese_key_message_says_tapping_a_key_copies_it(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    await dispatch(press("lang:zh"), ctx)
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    [message] = [a for a in shown if isinstance(a, SendText)]
    assert "点击卡密即可复制" in message.html
    assert [b.text for b in buttons([message])] == ["⚠️ 卡密无法使用", "📦 我的订单", "🛒 继续购物"]


async def test_a_rating_takes_the_rating_stars_away(ctx: ShopContext) -> None:
    ticket_id = await open_ticket_with_agent(ctx)
    await dispatch(agent_says("/close"), ctx)
    rated = await dispatch(press(f"rate:{ticket_id}:5", message_id=71), ctx)
    assert buttons_taken_from(rated, 71)


async def test_skipping_the_screenshot_takes_the_skip_button_away(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    reasons = await dispatch(press(f"bad:{order_id}"), ctx)
    skip = await dispatch(press(button(reasons, "badr:")), ctx)
    skipped = await dispatch(press(button(skip, "bads:"), message_id=72), ctx)
    assert buttons_taken_from(skipped, 72)


async def test_solved_takes_the_feedback_buttons_away(ctx: ShopContext) -> None:
    answered = await dispatch(text("how do i get a refund"), ctx)
    thanks = await dispatch(press(button(answered, "faqok:"), message_id=73), ctx)
    assert buttons_taken_from(thanks, 73)
    assert thanks[0] == AnswerButton(thanks[0].callback_id, "Thanks for the feedback!")  # type: ignore[union-attr]


async def test_a_top_up_refreshes_the_wallet_screen_it_was_chosen_on(ctx: ShopContext) -> None:
    await dispatch(text("/wallet"), ctx)
    invoice = await dispatch(press("topup:100", message_id=74), ctx)
    [payload] = [a.payload for a in invoice if hasattr(a, "payload")]
    credited = await dispatch(paid(payload, 100, charge_id="top-74"), ctx)
    [screen] = [a for a in credited if isinstance(a, EditText)]
    assert screen.message_id == 74 and "<b>Balance</b>: ¥10.00" in screen.html
    assert button([screen], "topup:")  # still the wallet, with its top-up buttons
    assert any(isinstance(a, SendText) and "Added ¥10.00" in a.html for a in credited)
