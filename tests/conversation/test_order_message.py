"""One order, one message: the summary the buyer pressed Buy on follows the order in place."""

from __future__ import annotations

import pytest

from handlers.action import Action, AnswerButton, EditText, SendText
from handlers.context import ShopContext
from handlers.outbox import render_outbox
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import OrderStatus
from store.domain.outbox import OutboxKind
from store.services.outbox import claim_outbox
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay, html
from tests.conversation.test_support_flow import reference_of
from tests.factories import order_id_on, paid, press, stocked_shop

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

SUMMARY = 500
"""The message the buyer pressed Buy on: it becomes the order's summary."""


def verbs(actions: list[Action]) -> set[str]:
    return {b.data.split(":")[0] for b in buttons(actions) if b.data}


def only_edit(actions: list[Action]) -> EditText:
    edits = [a for a in actions if isinstance(a, EditText)]
    assert len(edits) == 1 and not [a for a in actions if isinstance(a, SendText)], actions
    return edits[0]


async def hold(ctx: ShopContext, quantity: int = 1) -> int:
    bought = await dispatch(press(f"buy:STEAM-50:{quantity}", message_id=SUMMARY), ctx)
    return await order_id_on(button(bought, "paystars:"), ctx.uow)


async def test_a_stars_payment_is_one_edit_of_the_summary_to_paid_with_show_keys_only(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await hold(ctx)
    assert await dispatch(paid(f"order:{order_id}", 480), ctx) == []  # no "payment received"
    [item] = [i for i in await claim_outbox(uow(), now=clock.now()) if i.chat_id == 1001]
    edit = only_edit(list((await render_outbox(item, ctx)).actions))
    assert edit.message_id == SUMMARY
    assert "Paid 480 ⭐" in edit.html and "ready for order" in edit.html
    assert verbs([edit]) == {"keys"}  # Pay and Cancel are gone


async def test_cancel_pressed_on_a_paid_order_says_it_is_already_paid_and_drops_pay_and_cancel(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    late = await dispatch(press(f"cancel:{order_id}", message_id=SUMMARY), ctx)
    answer = late[0]
    assert isinstance(answer, AnswerButton) and answer.text is not None
    assert "already paid" in answer.text and "can't be paid" not in answer.text
    edit = only_edit(late)
    assert edit.message_id == SUMMARY and verbs([edit]) == {"keys"}


async def test_a_cancelled_order_says_cancelled_not_expired_and_offers_to_order_again(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await hold(ctx, quantity=2)
    cancelled = await dispatch(press(f"cancel:{order_id}", message_id=SUMMARY), ctx)
    edit = only_edit(cancelled)
    assert edit.message_id == SUMMARY and "is cancelled" in edit.html
    assert "expired" not in edit.html
    assert button([edit], "buy:") == "buy:STEAM-50:2"  # Order again: the same product and number
    assert not verbs([edit]) & {"paystars", "paywallet", "cancel"}
    detail = await dispatch(press(f"order:{order_id}"), ctx)
    assert "Status: cancelled" in html(detail)
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.status is OrderStatus.CANCELLED


async def test_the_expiry_job_edits_the_summary_into_expired_with_order_again_unasked(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from bot.scheduler import release_lapsed_reservations

    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await hold(ctx)
    clock.advance(minutes=16)
    assert await release_lapsed_reservations(ctx) == 1
    [item] = [i for i in await claim_outbox(uow(), now=clock.now()) if i.chat_id == 1001]
    assert item.kind is OutboxKind.ORDER_EXPIRED
    [edit] = (await render_outbox(item, ctx)).actions
    assert isinstance(edit, EditText) and edit.message_id == SUMMARY
    assert f"Order {await reference_of(ctx, order_id)} has expired" in edit.html
    assert next([b.text for b in row] for row in edit.keyboard or ()) == ["🔁 Order again"]
    assert verbs([edit]) == {"buy", "menu"}


async def test_order_again_turns_the_expired_summary_into_a_new_held_order(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from bot.scheduler import release_lapsed_reservations

    await stocked_shop(uow, cipher, clock, stock=2)
    first = await hold(ctx)
    clock.advance(minutes=16)
    await release_lapsed_reservations(ctx)
    again = await dispatch(press("buy:STEAM-50:1", message_id=SUMMARY), ctx)
    edit = only_edit(again)
    second = await order_id_on(button([edit], "paystars:"), ctx.uow)
    assert edit.message_id == SUMMARY and second != first
    async with uow().reading() as tx:
        order = await tx.orders.get(second)
    assert order is not None and order.notice_message_id == SUMMARY


async def test_an_expired_summary_is_not_sent_once_a_late_payment_held_the_order_again(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from bot.scheduler import release_lapsed_reservations

    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await hold(ctx)
    clock.advance(minutes=16)
    await release_lapsed_reservations(ctx)
    await dispatch(paid(f"order:{order_id}", 480), ctx)  # an invoice opened before it lapsed
    [expired] = [
        i for i in await claim_outbox(uow(), now=clock.now()) if i.kind is OutboxKind.ORDER_EXPIRED
    ]
    assert (await render_outbox(expired, ctx)).actions == ()  # "ready" is not overwritten


async def test_pay_pressed_on_a_cancelled_order_says_so_and_the_pay_buttons_go(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await hold(ctx)
    await dispatch(press(f"cancel:{order_id}", message_id=SUMMARY), ctx)
    late = await dispatch(press(f"paystars:{order_id}", message_id=SUMMARY), ctx)
    answer = late[0]
    assert isinstance(answer, AnswerButton) and answer.text == (
        "This order was cancelled; please order again."
    )
    assert verbs([only_edit(late)]) == {"buy", "menu"}


async def test_a_refund_from_the_order_screen_edits_the_summary_to_refunded_without_show_keys(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    bought = await dispatch(press("buy:STEAM-50:1", message_id=SUMMARY), ctx)
    order_id = await order_id_on(button(bought, "paystars:"), ctx.uow)
    await dispatch(paid(f"order:{order_id}", 480), ctx)
    refunded = await dispatch(press(f"refund:{order_id}", message_id=SUMMARY + 1), ctx)
    [summary] = [a for a in refunded if isinstance(a, EditText) and a.message_id == SUMMARY]
    assert f"Order {await reference_of(ctx, order_id)} was refunded" in summary.html
    assert "keys" not in verbs([summary])
