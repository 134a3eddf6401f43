"""Buttons name an order by its reference, never by its internal id, and are still never trusted."""

from __future__ import annotations

import pytest

from handlers.action import Action, AnswerButton, SendInvoice, SendText
from handlers.callback import ORDER_FIELDS
from handlers.context import ShopContext
from handlers.outbox import render_outbox
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import Order
from store.domain.outbox import OutboxKind
from store.services.outbox import claim_outbox
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button, buttons, html
from tests.factories import order_id_on, paid, pre_checkout, press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

BUYER = 1001
OTHER = 6666
KEY_FIELD = {"badk": 1, "badr": 1, "bads": 1}
"""The bad-key steps also carry a card key's row id, which can equal an order id by chance."""


def refusal(actions: list[Action]) -> str:
    [answer] = actions
    assert isinstance(answer, AnswerButton) and answer.alert
    return answer.text or ""


def assert_named_by_reference(actions: list[Action], order: Order) -> None:
    """Every button naming an order names this one by its reference, and none carries its id."""
    for b in buttons(actions):
        assert b.data is not None
        verb, *fields = b.data.split(":")
        if verb in KEY_FIELD:
            del fields[KEY_FIELD[verb]]
        assert str(order.id) not in fields, b.data
        for index in ORDER_FIELDS.get(verb, ()):
            if fields[index] != "0":  # "bad:0": which order is asked next
                assert fields[index] == order.reference, b.data


async def bought(ctx: ShopContext, user_id: int = BUYER, quantity: int = 1) -> list[Action]:
    return await dispatch(press(f"buy:STEAM-50:{quantity}", user_id), ctx)


async def order_named(ctx: ShopContext, data: str) -> Order:
    async with ctx.uow().reading() as tx:
        order = await tx.orders.get(await order_id_on(data, ctx.uow))
    assert order is not None
    return order


async def pay_with_stars(ctx: ShopContext, pay: str, user_id: int = BUYER) -> None:
    invoice = next(
        a for a in await dispatch(press(pay, user_id), ctx) if isinstance(a, SendInvoice)
    )
    await dispatch(pre_checkout(invoice.payload, invoice.stars, user_id), ctx)
    await dispatch(paid(invoice.payload, invoice.stars, user_id=user_id), ctx)


async def delivered(ctx: ShopContext, user_id: int = BUYER, quantity: int = 1) -> Order:
    summary = await bought(ctx, user_id, quantity)
    await pay_with_stars(ctx, button(summary, "paystars:"), user_id)
    return await order_named(ctx, button(summary, "paystars:"))


async def test_every_button_on_a_buyers_order_names_it_by_reference_not_by_id(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=10)
    for other in (2001, 2002, 2003):  # so the order's id is not the 1 a quantity could read as
        await bought(ctx, other)
    await credit_wallet(
        uow(), user_id=BUYER, amount_minor=9600, reason="gift", idempotency_key="g", now=clock.now()
    )
    summary = await bought(ctx, quantity=2)
    order = await order_named(ctx, button(summary, "paystars:"))
    assert order.id == 4
    assert {b.data.split(":")[0] for b in buttons(summary) if b.data} >= {
        "paystars",
        "paywallet",
        "cancel",
    }
    assert_named_by_reference(summary, order)

    await pay_with_stars(ctx, button(summary, "paystars:"))
    [delivery] = [
        i for i in await claim_outbox(uow(), now=clock.now()) if i.kind is OutboxKind.DELIVERY
    ]
    ready = list((await render_outbox(delivery, ctx)).actions)
    assert button(ready, "keys:") == f"keys:{order.reference}"
    assert_named_by_reference(ready, order)

    listed = await dispatch(text("/orders"), ctx)
    assert button(listed, "order:") == f"order:{order.reference}"
    assert_named_by_reference(listed, order)

    screen = await dispatch(press(f"order:{order.reference}"), ctx)
    assert {"keys", "refund", "bad"} <= {b.data.split(":")[0] for b in buttons(screen) if b.data}
    assert_named_by_reference(screen, order)

    keys = await dispatch(press(f"keys:{order.reference}"), ctx)
    assert button(keys, "bad:") == f"bad:{order.reference}"
    assert_named_by_reference(keys, order)

    picker = await dispatch(press(f"bad:{order.reference}"), ctx)  # two keys: which one
    assert_named_by_reference(picker, order)
    reasons = await dispatch(press(button(picker, "badk:")), ctx)
    assert_named_by_reference(reasons, order)
    skip = await dispatch(press(button(reasons, "badr:")), ctx)
    assert button(skip, "bads:").startswith(f"bads:{order.reference}:")


async def test_a_reference_button_shows_the_keys_to_their_buyer(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order = await delivered(ctx)
    shown = await dispatch(press(f"keys:{order.reference}"), ctx)
    [message] = [a for a in shown if isinstance(a, SendText)]
    assert "STEAM-50-000000" in message.html and order.reference in message.html
    async with uow().reading() as tx:
        revealed = await tx.orders.get(order.id)
    assert revealed is not None and revealed.revealed_at is not None


async def test_another_buyers_reference_is_refused_as_not_theirs_and_changes_nothing(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order = await delivered(ctx)
    for verb in ("keys", "order", "refund", "bad", "cancel", "paystars", "paywallet", "wait"):
        reply = await dispatch(press(f"{verb}:{order.reference}", OTHER), ctx)
        assert refusal(reply) == "That order is not yours.", verb
    async with uow().reading() as tx:
        after = await tx.orders.get(order.id)
        assert after == order and after.revealed_at is None
        assert await tx.cases.for_user(OTHER, 5) == []


async def test_an_unknown_reference_is_refused_like_an_unknown_id(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order = await delivered(ctx)
    unknown = "ZZZZ-ZZZZ" if order.reference != "ZZZZ-ZZZZ" else "2222-2222"
    for data in (f"keys:{unknown}", f"order:{unknown}", "keys:999"):
        assert refusal(await dispatch(press(data), ctx)) == (
            "That product or order could not be found."
        ), data


@pytest.mark.parametrize(
    "data",
    [
        "keys:K7F3-2QX",  # a character short
        "keys:K7F3-2QX99",  # a character over
        "keys:k7f3-2qx9",  # as typed, not as written: a button is never typed
        "keys:K7F32QX9",  # no dash
        "keys:K7F3-2QXU",  # U is never issued
        "keys:K7F3-2QX0",  # nor 0
        "keys:K7F3-2QX9:1",
        "badk:K7F3-2QX9:K7F3-2QX9",  # a key is not an order
        "agrefno:7",
    ],
)
async def test_a_malformed_reference_is_forged(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, data: str
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    await delivered(ctx)
    reply = await dispatch(press(data), ctx)
    assert refusal(reply) == "That button is no longer valid; please open the menu again."


async def test_an_old_button_naming_the_order_by_id_still_works_for_its_owner_only(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order = await delivered(ctx)
    refused = await dispatch(press(f"keys:{order.id}", OTHER), ctx)
    assert refusal(refused) == "That order is not yours."
    shown = await dispatch(press(f"keys:{order.id}"), ctx)
    assert "STEAM-50-000000" in html(shown)
    picker = await dispatch(press(f"bad:{order.id}"), ctx)  # its next steps still name the id
    assert button(picker, "badr:").startswith(f"badr:{order.id}:")
