"""Keys are never given away before they are revealed, and notices survive a repeat."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from handlers.action import AnswerButton, EditText, SendDocument
from handlers.context import ShopContext
from handlers.outbox import render_outbox
from handlers.router import dispatch
from handlers.text import visible_length
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.outbox import OutboxKind
from store.services.outbox import claim_outbox
from tests.conftest import FakeClock
from tests.conversation.test_shop_flow import button, buttons, buy_and_pay, html
from tests.conversation.test_support_flow import reference_of
from tests.factories import order_id_on, press, stocked_shop

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def popup(actions: Sequence[object]) -> str:
    answer = actions[0]
    assert isinstance(answer, AnswerButton) and answer.alert
    return answer.text or ""


async def test_a_key_never_shown_cannot_be_reported_so_it_cannot_be_kept_and_refunded(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx)
    picker = await dispatch(press(f"bad:{order_id}"), ctx)
    assert "Show keys first" in popup(picker)
    async with uow().reading() as tx:
        [(key_id, _)] = await tx.card_keys.sold_keys(order_id)
    for step in (f"badk:{order_id}:{key_id}", f"badr:{order_id}:{key_id}:invalid"):
        assert "Show keys first" in popup(await dispatch(press(step), ctx))
    refund = await dispatch(press(f"refund:{order_id}"), ctx)
    assert "refunded" in html(refund)  # unseen keys simply refund, and go back on sale


async def test_the_key_picker_never_shows_a_short_key_or_enough_of_a_long_one_to_use(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from store.services.stock import import_card_keys
    from tests.factories import key_file

    await stocked_shop(uow, cipher, clock, stock=0)
    await import_card_keys(
        uow,
        sku="STEAM-50",
        parsed=key_file("482913", "LONGKEY-ABCDEFGH-7Q"),
        source="t",
        cipher=cipher,
        now=clock.now(),
    )
    order_id = await buy_and_pay(ctx, quantity=2)
    await dispatch(press(f"keys:{order_id}"), ctx)
    picker = await dispatch(press(f"bad:{order_id}"), ctx)
    labels = [b.text for b in buttons(picker) if b.data and b.data.startswith("badk:")]
    assert labels == ["#1", "#2 …7Q"]
    assert not any(fragment in label for label in labels for fragment in ("4829", "LONG"))


async def test_each_step_of_a_report_refuses_another_buyers_order_at_once(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await buy_and_pay(ctx, user_id=1001)
    await dispatch(press(f"keys:{order_id}", 1001), ctx)
    async with uow().reading() as tx:
        [(key_id, _)] = await tx.card_keys.sold_keys(order_id)
    for step in (
        f"bad:{order_id}",
        f"badk:{order_id}:{key_id}",
        f"badr:{order_id}:{key_id}:invalid",
        f"bads:{order_id}:{key_id}:invalid",
    ):
        assert "not yours" in popup(await dispatch(press(step, user_id=2002), ctx))
    async with uow().reading() as tx:
        assert await tx.cases.for_user(2002, 5) == [] and await tx.cases.for_user(1001, 5) == []


async def test_a_keys_file_caption_fits_telegram_even_with_long_instructions_full_of_entities(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    redeem = "Open Settings & Privacy <then> redeem " * 60  # ~2,300 characters, & < > to escape
    await stocked_shop(uow, cipher, clock, stock=12, redeem_en=redeem, order_limit=20)
    order_id = await buy_and_pay(ctx, quantity=11)
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    [document] = [a for a in shown if isinstance(a, SendDocument)]
    assert visible_length(document.caption_html) <= 1024
    assert not re.search(r"&[a-z]*$", document.caption_html.rstrip("…"))  # no entity cut in two
    assert "…\n\n🔎" in document.caption_html  # the instructions cut, then the trace code hint
    assert "Settings &amp; Privacy" in document.caption_html


async def test_buy_pressed_again_shows_the_order_already_held_instead_of_sold_out(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    first = await dispatch(press("buy:STEAM-50:1"), ctx)
    again = await dispatch(press("buy:STEAM-50:1"), ctx)  # its first answer was lost in a crash
    assert "You already hold keys of this product" in html(again)
    assert button(again, "paystars:") == button(first, "paystars:")


async def test_the_delivery_edits_the_order_summary_so_a_repeat_is_the_same_edit(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    bought = await dispatch(press("buy:STEAM-50:1", message_id=321), ctx)  # the summary is 321
    order_id = await order_id_on(button(bought, "paystars:"), ctx.uow)
    from tests.factories import paid

    replies = await dispatch(paid(f"order:{order_id}", 480), ctx)
    assert replies == []  # no second message: the summary itself is edited, once, by the delivery
    claimed = await claim_outbox(uow(), now=clock.now())
    [item] = [i for i in claimed if i.kind is OutboxKind.DELIVERY]
    first, repeat = await render_outbox(item, ctx), await render_outbox(item, ctx)
    assert first == repeat  # sent again after a crash: the same edit of the same message
    [edit] = first.actions
    assert isinstance(edit, EditText) and edit.message_id == 321
    assert "Your key is ready" in edit.html and "Paid 480 ⭐" in edit.html
    shown_keys = f"keys:{await reference_of(ctx, order_id)}"
    assert [b.data for b in buttons([edit])] == [shown_keys]  # Pay and Cancel are gone
    assert edit.fallback is not None  # a summary the buyer deleted gets a new message instead


async def test_a_payment_found_by_reconciliation_is_delivered_into_the_same_summary(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from store.services.payment import confirm_payment

    await stocked_shop(uow, cipher, clock, stock=2)
    bought = await dispatch(press("buy:STEAM-50:1", message_id=654), ctx)
    order_id = await order_id_on(button(bought, "paystars:"), ctx.uow)
    await confirm_payment(  # no update, no reply: the charge was read from Telegram's record
        ctx.uow,
        user_id=1001,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=480,
        charge_id="from-the-record",
        now=clock.now(),
        rules=ctx.hold,
        topup=ctx.topup,
        refunder=ctx.refunder,
    )
    claimed = await claim_outbox(uow(), now=clock.now())
    [item] = [i for i in claimed if i.kind is OutboxKind.DELIVERY]
    [edit] = (await render_outbox(item, ctx)).actions
    assert isinstance(edit, EditText) and edit.message_id == 654


async def test_a_keys_file_offers_the_same_next_steps_as_a_keys_message(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=12, order_limit=20)
    order_id = await buy_and_pay(ctx, quantity=11)
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    [document] = [a for a in shown if isinstance(a, SendDocument)]
    assert document.keyboard is not None
    offered = [b.data for row in document.keyboard for b in row]
    assert offered == [f"bad:{await reference_of(ctx, order_id)}", "orders:0", "shop"]
