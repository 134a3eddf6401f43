"""The agent's desk, fed events: coming on duty, choosing a conversation, canned replies,
transfers, refunds from the context card, and case cards."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faq.knowledge import KnowledgeBase
from faq.matcher import FaqMatcher
from handlers.action import Action, EditText
from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import Order, OrderStatus
from store.services.wallet import credit_wallet, show_wallet
from tests.conftest import FakeClock
from tests.conversation.conftest import AGENT, OTHER_AGENT, RecordingRefunder
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay
from tests.conversation.test_support_flow import (
    BUYER,
    OTHER_BUYER,
    agent_says,
    delivered_order,
    open_ticket_with_agent,
    reference_of,
    report_bad_key_by_buttons,
    seen_by,
    sent_later,
)
from tests.factories import order_id_on, press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


@pytest.fixture
def ctx(ctx: ShopContext, knowledge: KnowledgeBase, faq: FaqMatcher) -> ShopContext:
    """The shop as `bot.app.build_context` wires it: free text goes to the FAQ matcher."""
    return replace(ctx, knowledge=knowledge, faq=faq)


async def test_tickets_lists_the_agents_open_conversations_and_marks_the_current_one(
    ctx: ShopContext,
) -> None:
    first = await open_ticket_with_agent(ctx)
    second = await open_ticket_with_agent(ctx, buyer=OTHER_BUYER)
    listed = seen_by(await dispatch(agent_says("/tickets"), ctx), AGENT)
    assert "Your conversations</b> (2)" in listed
    assert f"▶️ #{first} · 人工" in listed and f"• #{second} · 人工" in listed
    assert f"What you write goes to #{first}" in listed
    assert "Now replying to" not in listed


async def test_tickets_follows_the_conversation_the_agent_chose(
    ctx: ShopContext,
) -> None:
    await open_ticket_with_agent(ctx)
    second = await open_ticket_with_agent(ctx, buyer=OTHER_BUYER)
    await dispatch(press(f"agt:{second}", AGENT), ctx)
    listed = await dispatch(agent_says("/tickets"), ctx)
    assert f"▶️ #{second}" in seen_by(listed, AGENT)
    assert [b.text.startswith("▶️") for b in buttons(listed)] == [False, True]


async def test_coming_on_duty_with_nobody_waiting_says_only_that(
    ctx: ShopContext,
) -> None:
    on = seen_by(await dispatch(agent_says("/duty on"), ctx), AGENT)
    assert on == "🟢 On duty, up to 2 conversations at once."


async def test_coming_on_duty_names_the_waiting_conversations_taken_in_a_sentence(
    ctx: ShopContext,
) -> None:
    await dispatch(text("人工", user_id=BUYER), ctx)
    on = seen_by(await dispatch(agent_says("/duty on"), ctx), AGENT)
    assert on.endswith("Waiting conversations now yours: #1; their cards follow.")
    assert not on.endswith("#1")


async def test_reply_with_a_wrong_faq_id_lists_the_ids_nearest_first(
    ctx: ShopContext,
) -> None:
    await open_ticket_with_agent(ctx)
    told = seen_by(await dispatch(agent_says("/reply refnd_policy"), ctx), AGENT)
    assert told.startswith("No FAQ entry “refnd_policy”. The ids, nearest first:\n")
    listed = told.splitlines()[1]
    assert listed.startswith("<code>refund_policy</code>, ")
    assert "<code>wallet_topup</code>" in listed


async def test_reply_without_an_id_shows_how_and_lists_the_ids(
    ctx: ShopContext,
) -> None:
    await open_ticket_with_agent(ctx)
    told = seen_by(await dispatch(agent_says("/reply"), ctx), AGENT)
    assert told.startswith("Usage: /reply FAQ_ID. The ids:\n<code>")
    assert "<code>refund_policy</code>" in told


async def test_a_transfer_to_the_queue_tells_the_buyer_they_wait_again_and_their_place(
    ctx: ShopContext,
) -> None:
    await open_ticket_with_agent(ctx)
    handed = await dispatch(agent_says("/transfer queue"), ctx)
    assert "handed over" in seen_by(handed, AGENT)
    told = seen_by(await sent_later(ctx), BUYER)
    assert told.startswith("🔄 Your agent passed your conversation on to the next free colleague")
    assert "queue" in told
    assert "is with you" not in told


async def test_a_transfer_to_the_queue_taken_by_another_agent_tells_the_buyer_once(
    ctx: ShopContext,
) -> None:
    await open_ticket_with_agent(ctx)
    await dispatch(agent_says("/duty on", OTHER_AGENT, "Bo"), ctx)
    await dispatch(agent_says("/transfer queue"), ctx)
    told = seen_by(await sent_later(ctx), BUYER)
    assert told.count("is with you") == 1 and "passed your conversation on" not in told


async def test_a_case_joining_an_open_conversation_refreshes_the_card_without_a_second_greeting(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await open_ticket_with_agent(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    clock.advance(hours=30)
    keys = await dispatch(press(f"bad:{order_id}"), ctx)
    reasons = keys  # its only key: "which key?" is skipped
    asked = await dispatch(press(button(reasons, "badr:")), ctx)
    await dispatch(press(button(asked, "bads:")), ctx)
    fresh = await sent_later(ctx)
    assert "bad-key case" in seen_by(fresh, AGENT)
    assert "is with you" not in seen_by(fresh, BUYER)


async def test_a_refund_from_the_card_is_confirmed_first_naming_amount_and_unrevealed_key(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await open_ticket_with_agent(ctx)
    asked = await dispatch(press(f"agref:{order_id}", AGENT, message_id=300), ctx)
    confirm = seen_by(asked, AGENT)
    reference = await reference_of(ctx, order_id)
    assert f"Refund order {reference} (Steam Wallet ¥50 ×1)?" in confirm
    assert "480 ⭐ go back to the buyer's Telegram balance." in confirm
    assert "has not seen the key: it goes back into stock" in confirm
    assert [b.data for b in buttons(asked)] == [f"agrefok:{reference}:300", f"agrefno:{reference}"]
    assert refunder.refunded == [] and not seen_by(asked, BUYER)


async def test_the_confirmation_says_when_the_buyer_has_seen_the_key(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    await open_ticket_with_agent(ctx)
    confirm = seen_by(await dispatch(press(f"agref:{order_id}", AGENT), ctx), AGENT)
    assert "⚠️ The buyer has seen the key: it does not go back into stock." in confirm


async def test_a_confirmed_refund_stays_in_the_agents_chat_and_refreshes_the_card(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await open_ticket_with_agent(ctx)
    done = await dispatch(press(f"agrefok:{order_id}:300", AGENT, message_id=301), ctx)
    edits = {a.message_id: a for a in done if isinstance(a, EditText)}
    result, card = edits[301], edits[300]
    reference = await reference_of(ctx, order_id)
    assert (
        result.html
        == f"✅ Order {reference} refunded: 480 ⭐ go back to the buyer's Telegram balance."
    )
    assert result.keyboard is None and result.chat_id == AGENT
    assert "refunded" in card.html and "Ticket #" in card.html
    assert f"agref:{reference}" not in [b.data for row in card.keyboard or () for b in row]
    assert f"Order {reference}" in seen_by(done, BUYER) and "⭐" in seen_by(done, BUYER)
    assert [user for user, _ in refunder.refunded] == [BUYER]
    assert "is with you" not in seen_by(done, BUYER)


async def test_declining_the_refund_changes_nothing_and_says_so(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: RecordingRefunder,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await open_ticket_with_agent(ctx)
    reference = await reference_of(ctx, order_id)
    kept = await dispatch(press(f"agrefno:{reference}", AGENT, message_id=301), ctx)
    [edit] = [a for a in kept if isinstance(a, EditText)]
    assert (
        edit.message_id == 301 and edit.html == f"Not refunded: order {reference} stays as it is."
    )
    assert refunder.refunded == []


async def test_a_case_card_shows_the_reported_key_masked_and_why_it_was_not_replaced(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    clock.advance(hours=30)  # automatic replacement is for 24 h after payment
    case_id = await report_bad_key_by_buttons(ctx, order_id)
    await dispatch(agent_says("/duty on"), ctx)
    sent = await sent_later(ctx)
    card = seen_by(sent, AGENT)
    reference = await reference_of(ctx, order_id)
    assert f"agcase:{case_id}:replaced" in [b.data for b in buttons(sent)]
    assert f"\n{reference} invalid → open · key …000" in card  # the case, by its order
    assert "not replaced automatically: replacement within 24 h of payment only" in card
    assert stocked[0] not in card


async def test_a_case_reported_in_time_with_no_stock_left_says_so(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    order_id = await delivered_order(ctx)
    await dispatch(press(f"keys:{order_id}"), ctx)
    await report_bad_key_by_buttons(ctx, order_id)
    await dispatch(agent_says("/duty on"), ctx)
    card = seen_by(await sent_later(ctx), AGENT)
    assert "not replaced automatically: no stock to replace it with" in card


async def test_an_agents_refund_brings_the_buyers_order_message_up_to_date(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    await open_ticket_with_agent(ctx)
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.notice_message_id is not None
    done = await dispatch(press(f"agrefok:{order_id}:300", AGENT, message_id=301), ctx)
    [summary] = [
        a
        for a in done
        if isinstance(a, EditText)
        and a.chat_id == BUYER
        and a.message_id == order.notice_message_id
    ]
    assert "refunded" in summary.html
    shown_keys = f"keys:{await reference_of(ctx, order_id)}"
    assert shown_keys not in [b.data for row in summary.keyboard or () for b in row]


def _summary_edits(actions: list[Action], order: Order) -> list[EditText]:
    """The edits of the buyer's order message among these actions."""
    return [
        a
        for a in actions
        if isinstance(a, EditText)
        and a.chat_id == order.user_id
        and a.message_id == order.notice_message_id
    ]


async def _decided_by_agent(ctx: ShopContext, order_id: int, decision: str) -> list[Action]:
    """The bad key reported after the automatic window, decided on its card; what the outbox
    then sends (the buyer hears the decision from it)."""
    case_id = await report_bad_key_by_buttons(ctx, order_id)
    await dispatch(agent_says("/duty on"), ctx)
    await sent_later(ctx)
    await dispatch(press(f"agcase:{case_id}:{decision}", AGENT), ctx)
    return await sent_later(ctx)


async def test_a_bad_key_refunded_through_telegram_brings_the_buyers_order_message_up_to_date(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    clock.advance(hours=30)
    told = await _decided_by_agent(ctx, order_id, "refunded")
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.notice_message_id is not None
    [summary] = _summary_edits(told, order)
    assert "refunded" in summary.html
    shown_keys = f"keys:{await reference_of(ctx, order_id)}"
    assert shown_keys not in [b.data for row in summary.keyboard or () for b in row]


async def test_a_bad_key_refunded_to_the_wallet_for_the_whole_order_shows_it_refunded(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    await credit_wallet(
        uow(),
        user_id=BUYER,
        amount_minor=10000,
        reason="gift",
        idempotency_key="g",
        now=clock.now(),
    )
    bought = await dispatch(press("buy:STEAM-50:1", BUYER), ctx)
    order_id = await order_id_on(button(bought, "paywallet:"), ctx.uow)
    await dispatch(press(f"paywallet:{order_id}", BUYER), ctx)
    await sent_later(ctx)
    clock.advance(hours=30)
    told = await _decided_by_agent(ctx, order_id, "refunded")
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.status is OrderStatus.REFUNDED
    [summary] = _summary_edits(told, order)
    assert "refunded" in summary.html
    shown_keys = f"keys:{await reference_of(ctx, order_id)}"
    assert shown_keys not in [b.data for row in summary.keyboard or () for b in row]
    assert (await show_wallet(uow(), user_id=BUYER)).balance_minor == 10000


async def test_one_bad_key_of_two_refunded_leaves_the_order_message_showing_the_other_key(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await buy_and_pay(ctx, quantity=2)
    await sent_later(ctx)
    clock.advance(hours=30)
    told = await _decided_by_agent(ctx, order_id, "refunded")
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and not _summary_edits(told, order)  # it still reads the same
    shown = await dispatch(press(f"keys:{order_id}", BUYER), ctx)
    assert stocked[1] in seen_by(shown, BUYER) and stocked[0] not in seen_by(shown, BUYER)


async def test_a_replaced_key_is_what_the_order_messages_show_keys_shows(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await delivered_order(ctx)
    clock.advance(hours=30)
    told = await _decided_by_agent(ctx, order_id, "replaced")
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.status is OrderStatus.DELIVERED
    assert not _summary_edits(told, order)  # its text and Show keys button still hold
    shown = await dispatch(press(f"keys:{order_id}", BUYER), ctx)
    assert stocked[1] in seen_by(shown, BUYER) and stocked[0] not in seen_by(shown, BUYER)
