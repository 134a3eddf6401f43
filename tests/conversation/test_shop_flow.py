"""The conversation, fed events: browsing, buying, paying, revealing, and refusing bad input."""

from __future__ import annotations

import re

import pytest

from handlers.action import (
    Action,
    AnswerButton,
    AnswerPreCheckout,
    Button,
    EditText,
    SendDocument,
    SendInvoice,
    SendText,
)
from handlers.context import ShopContext
from handlers.event import OTHER_KINDS, OtherMessage
from handlers.outbox import render_outbox
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import OrderStatus
from store.services.outbox import claim_outbox
from tests.conftest import FakeClock
from tests.factories import order_id_on, paid, pre_checkout, press, stocked_shop, text

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def buttons(actions: list[Action]) -> list[Button]:
    found: list[Button] = []
    for action in actions:
        keyboard = getattr(action, "keyboard", None) or ()
        found.extend(b for row in keyboard for b in row)
    return found


def button(actions: list[Action], starts_with: str) -> str:
    for b in buttons(actions):
        if b.data and b.data.startswith(starts_with):
            return b.data
    raise AssertionError(f"no button {starts_with!r} in {[b.data for b in buttons(actions)]}")


def html(actions: list[Action]) -> str:
    return "\n".join(a.html for a in actions if isinstance(a, SendText | EditText))


async def buy_and_pay(ctx: ShopContext, quantity: int = 1, user_id: int = 1001) -> int:
    bought = await dispatch(press(f"buy:STEAM-50:{quantity}", user_id), ctx)
    order_id = await order_id_on(button(bought, "paystars:"), ctx.uow)
    invoice = await dispatch(press(f"paystars:{order_id}", user_id), ctx)
    sent = next(a for a in invoice if isinstance(a, SendInvoice))
    answer = await dispatch(pre_checkout(sent.payload, sent.stars, user_id), ctx)
    assert answer == [AnswerPreCheckout(answer[0].query_id, True)]  # type: ignore[union-attr]
    await dispatch(paid(sent.payload, sent.stars, user_id=user_id), ctx)
    return order_id


async def test_start_shows_the_main_menu_in_the_buyers_language(ctx: ShopContext) -> None:
    zh = await dispatch(text("/start", language_code="zh-hans"), ctx)
    en = await dispatch(text("/start", user_id=2002, language_code="en"), ctx)
    assert "欢迎" in html(zh) and "welcome" in html(en)
    assert [b.data for b in buttons(zh)] == ["shop", "orders:0", "wallet", "help", "human:0"]


async def test_the_language_choice_is_remembered(ctx: ShopContext) -> None:
    await dispatch(press("lang:zh", language_code="en"), ctx)
    again = await dispatch(text("/start", language_code="en"), ctx)
    assert "欢迎" in html(again)


async def test_browsing_edits_the_message_in_place_and_shows_live_stock(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=12)
    category = await dispatch(press("cat:game:0"), ctx)
    assert isinstance(category[1], EditText)
    assert "12 in stock" in html(category)
    card = await dispatch(press("prod:STEAM-50"), ctx)
    assert "¥48.00" in html(card) and "⭐ 480" in html(card)
    assert [b.data for b in buttons(card) if b.data and b.data.startswith("buy")] == [
        "buy:STEAM-50:1",
        "buy:STEAM-50:2",
        "buy:STEAM-50:5",
        "buy:STEAM-50:10",
    ]


async def test_a_long_category_pages_by_eight(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from store.services.catalog import load_catalog
    from tests.factories import catalog, product

    await load_catalog(
        uow(),
        spec=catalog(*(product(f"P{n:02d}") for n in range(11))),
        star_value_minor=10,
        default_order_limit=10,
    )
    first = await dispatch(press("cat:game:0"), ctx)
    assert "page 1/2" in html(first) and button(first, "cat:game:1")
    second = await dispatch(press("cat:game:1"), ctx)
    assert len([b for b in buttons(second) if b.data and b.data.startswith("prod:")]) == 3


async def test_a_buyer_pays_with_stars_and_reveals_the_key_once_delivered(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await buy_and_pay(ctx)
    [item] = [i for i in await claim_outbox(uow(), now=clock.now()) if i.chat_id == 1001]
    ready = list((await render_outbox(item, ctx)).actions)
    assert "ready" in html(ready) and await order_id_on(button(ready, "keys:"), ctx.uow) == order_id
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    assert f"<code>{stocked[0]}</code>" in html(shown)
    assert "Redeem in Steam" in html(shown)


async def test_keys_with_html_characters_are_escaped(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from store.services.stock import import_card_keys
    from tests.factories import key_file

    await stocked_shop(uow, cipher, clock, stock=0)
    await import_card_keys(
        uow,
        sku="STEAM-50",
        parsed=key_file("<b>&\"key'"),
        source="t",
        cipher=cipher,
        now=clock.now(),
    )
    order_id = await buy_and_pay(ctx)
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    assert "<code>&lt;b&gt;&amp;&#34;key&#39;</code>" in html(shown)


async def test_more_than_ten_keys_arrive_as_a_text_file(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=11, order_limit=20)
    order_id = await buy_and_pay(ctx, quantity=11)
    shown = await dispatch(press(f"keys:{order_id}"), ctx)
    [document] = [a for a in shown if isinstance(a, SendDocument)]
    assert document.content.decode().split() == stocked
    assert "11 keys" in document.caption_html
    assert "STEAM-50-000000" not in repr(document)  # never printable by accident


async def test_a_forged_button_for_another_buyers_order_is_refused_and_changes_nothing(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await buy_and_pay(ctx, user_id=1001)
    for forged in (
        f"keys:{order_id}",
        f"order:{order_id}",
        f"paywallet:{order_id}",
        f"cancel:{order_id}",
    ):
        reply = await dispatch(press(forged, user_id=6666), ctx)
        assert reply == [AnswerButton(reply[0].callback_id, "That order is not yours.", alert=True)]  # type: ignore[union-attr]
    async with uow() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.revealed_at is None


async def test_a_button_with_a_non_ascii_digit_is_forged_and_reveals_nothing(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await buy_and_pay(ctx)
    assert order_id == 1  # "١" is the Arabic-Indic digit one: the very same order, if misread
    for forged in ("keys:١", "order:１", "cancel:١", "refund:١"):
        reply = await dispatch(press(forged), ctx)
        assert reply == [
            AnswerButton(
                reply[0].callback_id,  # type: ignore[union-attr]
                "That button is no longer valid; please open the menu again.",
                alert=True,
            )
        ]
    async with uow() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.revealed_at is None
    assert order.status is OrderStatus.PAID or order.status is OrderStatus.DELIVERED


@pytest.mark.parametrize(
    "data",
    [
        "buy:NOPE:1",
        "buy:STEAM-50:0",
        "zzz",
        "keys:abc",
        "buy:STEAM-50:1:extra",
        "x" * 64,
        "cat:../../:0",
    ],
)
async def test_forged_or_odd_callback_data_gets_a_polite_refusal(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, data: str
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    reply = await dispatch(press(data), ctx)
    assert len(reply) == 1 and isinstance(reply[0], AnswerButton) and reply[0].alert
    async with uow() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 3


async def test_every_button_the_shop_draws_fits_in_64_bytes(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, sku="A" * 32, stock=3)
    screens = [
        await dispatch(text("/start"), ctx),
        await dispatch(press("cat:game:0"), ctx),
        await dispatch(press("prod:" + "A" * 32), ctx),
        await dispatch(press("buy:" + "A" * 32 + ":1"), ctx),
        await dispatch(text("/wallet"), ctx),
        await dispatch(text("/orders"), ctx),
    ]
    for screen in screens:
        for b in buttons(screen):
            assert b.data is None or len(b.data.encode()) <= 64


async def test_huge_or_odd_text_gets_a_clear_answer(ctx: ShopContext) -> None:
    assert "too long" in html(await dispatch(text("x" * 5000), ctx))
    assert "Unknown command" in html(await dispatch(text("/definitely_not_a_command"), ctx))
    assert "How to buy" in html(await dispatch(text("\u202e<script>"), ctx))


@pytest.mark.parametrize("kind", OTHER_KINDS)
async def test_a_sticker_or_any_other_kind_of_message_gets_a_friendly_reply_with_the_menu(
    ctx: ShopContext, kind: str
) -> None:
    from tests.factories import person

    [reply] = await dispatch(OtherMessage(person(), 77, kind), ctx)
    assert isinstance(reply, SendText) and reply.chat_id == 1001
    assert reply.html.startswith("🙂 I can read text, photos and files, but not ")
    assert [b.data for b in buttons([reply])] == ["shop", "orders:0", "wallet", "help", "human:0"]


async def test_the_friendly_reply_to_a_sticker_is_in_the_buyers_language(ctx: ShopContext) -> None:
    from tests.factories import person

    [reply] = await dispatch(OtherMessage(person(language_code="zh-hans"), 77, "voice"), ctx)
    assert isinstance(reply, SendText)
    assert reply.html.startswith("🙂 我能看懂文字、图片和文件，暂时看不懂语音。")
    assert buttons([reply])[0].text == "🛒 商城"


async def test_the_wallet_pays_and_the_balance_drops(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from store.services.wallet import credit_wallet

    await stocked_shop(uow, cipher, clock, stock=3)
    await credit_wallet(
        uow(), user_id=1001, amount_minor=10000, reason="gift", idempotency_key="g", now=clock.now()
    )
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    pay = button(bought, "paywallet:")
    done = await dispatch(press(pay), ctx)
    assert done == [AnswerButton(done[0].callback_id, "✅ Paid ¥48.00 from your wallet")]  # type: ignore[union-attr]
    wallet = await dispatch(text("/wallet"), ctx)
    assert "¥52.00" in html(wallet)


async def test_a_buyer_sees_orders_newest_first_with_status(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    first = await buy_and_pay(ctx)
    await dispatch(press("buy:STEAM-50:1"), ctx)
    listing = await dispatch(text("/orders"), ctx)
    lines = [b.text for b in buttons(listing) if b.data and b.data.startswith("order:")]
    async with uow() as tx:
        reference = (await tx.orders.get(first)).reference  # type: ignore[union-attr]
    assert (
        re.match(REFERENCE + r" .* awaiting payment", lines[0])
        and lines[1].startswith(reference)
        and "paid" in lines[1]
    )


REFERENCE = r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}"


async def test_a_buyer_reads_orders_by_their_reference_and_never_by_their_id(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    order_id = await buy_and_pay(ctx)
    async with uow() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and re.fullmatch(REFERENCE, order.reference)
    listing = await dispatch(text("/orders"), ctx)
    detail = await dispatch(press(f"order:{order_id}"), ctx)
    seen = "\n".join([html(bought), html(detail), *(b.text for b in buttons(listing))])
    assert re.search(r"(订单|Order) " + REFERENCE, seen) and order.reference in html(detail)
    assert f"#{order_id}" not in seen and "#1" not in seen


async def test_only_admins_may_import_stock(ctx: ShopContext) -> None:
    from handlers.event import DocumentMessage
    from tests.factories import person

    async def download() -> bytes:
        raise AssertionError("a non-admin's file must not even be downloaded")

    reply = await dispatch(
        DocumentMessage(person(1001), "keys.txt", 10, "/import STEAM-50", download), ctx
    )
    assert "admins only" in html(reply)


async def test_an_admin_imports_keys_by_sending_a_file(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from handlers.event import DocumentMessage
    from tests.factories import person

    await stocked_shop(uow, cipher, clock, stock=1)

    async def download() -> bytes:
        return b"NEW-1\nNEW-2\n\nSTEAM-50-000000\n"

    refused = await dispatch(
        DocumentMessage(person(42), "keys.txt", 30, "/import STEAM-50", download), ctx
    )
    assert "line 3: blank line" in html(refused) and "line 4: already in stock" in html(refused)

    async def clean() -> bytes:
        return b"NEW-1\nNEW-2\n"

    done = await dispatch(
        DocumentMessage(person(42), "keys.txt", 12, "/import STEAM-50", clean), ctx
    )
    assert "Imported 2 keys" in html(done)


async def test_a_lapsed_hold_is_released_by_the_scheduled_job_and_the_order_says_so(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    from bot.scheduler import release_lapsed_reservations

    await stocked_shop(uow, cipher, clock, stock=1)
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    order_id = await order_id_on(button(bought, "paystars:"), ctx.uow)
    clock.advance(minutes=16)
    assert await release_lapsed_reservations(ctx) == 1
    late = await dispatch(press(f"paystars:{order_id}"), ctx)
    assert isinstance(late[0], AnswerButton), late
    assert late[0] == AnswerButton(
        late[0].callback_id, "This order has expired; please order again.", alert=True
    )
    detail = await dispatch(press(f"order:{order_id}"), ctx)
    assert "Status: expired" in html(detail)
    card = await dispatch(press("prod:STEAM-50"), ctx)
    assert "1 in stock" in html(card)


async def test_a_buyer_cancels_an_unpaid_order_and_its_keys_return(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    cancelled = await dispatch(press(button(bought, "cancel:")), ctx)
    assert "cancelled" in html(cancelled)
    assert "1 in stock" in html(await dispatch(press("prod:STEAM-50"), ctx))


async def test_a_payment_that_found_no_stock_offers_a_refund_that_happens_once(
    ctx: ShopContext,
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    refunder: object,
) -> None:
    from bot.scheduler import release_lapsed_reservations

    await stocked_shop(uow, cipher, clock, stock=1)
    bought = await dispatch(press("buy:STEAM-50:1", user_id=1001), ctx)
    order_id = await order_id_on(button(bought, "paystars:"), ctx.uow)
    invoice = next(
        a for a in await dispatch(press(f"paystars:{order_id}"), ctx) if isinstance(a, SendInvoice)
    )
    clock.advance(minutes=16)
    await release_lapsed_reservations(ctx)
    await dispatch(press("buy:STEAM-50:1", user_id=2002), ctx)  # someone else takes the last key
    refused = await dispatch(pre_checkout(invoice.payload, invoice.stars), ctx)
    assert isinstance(refused[0], AnswerPreCheckout), refused
    assert refused[0] == AnswerPreCheckout(
        refused[0].query_id, False, "Sorry: the hold lapsed and the stock is gone."
    )
    # Telegram may still deliver a payment (e.g. approved just before): it must not be lost.
    await dispatch(paid(invoice.payload, invoice.stars, charge_id="ch-1"), ctx)
    items = await claim_outbox(uow(), now=clock.now())
    rendered = {i.id: (await render_outbox(i, ctx)).actions for i in items}
    [notice] = [a for i in items if i.chat_id == 1001 for a in rendered[i.id]]
    assert "stock ran out" in html([notice])
    admin_alerts = [a for i in items if i.chat_id == 0 for a in rendered[i.id]]
    assert any(
        isinstance(a, SendText) and a.chat_id == 42 and "awaiting stock" in a.html
        for a in admin_alerts
    )
    refund = button([notice], "refund:")
    assert "refunded" in html(await dispatch(press(refund), ctx))
    again = await dispatch(press(refund), ctx)
    assert isinstance(again[0], AnswerButton) and again[0].alert
    assert refunder.refunded == [(1001, "ch-1")]  # type: ignore[attr-defined]


async def test_a_wallet_top_up_with_stars_credits_the_balance_at_the_rate(ctx: ShopContext) -> None:
    wallet = await dispatch(text("/wallet"), ctx)
    invoice_actions = await dispatch(press(button(wallet, "topup:100")), ctx)
    invoice = next(a for a in invoice_actions if isinstance(a, SendInvoice))
    assert invoice.stars == 100 and invoice.payload.startswith("topup:1001:100")
    assert (await dispatch(pre_checkout(invoice.payload, 100), ctx))[0].ok  # type: ignore[union-attr]
    credited = await dispatch(paid(invoice.payload, 100, charge_id="top-1"), ctx)
    assert "Added ¥10.00" in html(credited) and "Balance now: ¥10.00" in html(credited)
    forged = await dispatch(pre_checkout("topup:1001:7", 7), ctx)
    assert not forged[0].ok  # type: ignore[union-attr]


async def test_paysupport_and_terms_answer_as_telegram_requires(ctx: ShopContext) -> None:
    assert "@kamibot_support" in html(await dispatch(text("/paysupport"), ctx))
    assert "Terms of service" in html(await dispatch(text("/terms"), ctx))
    assert "服务条款" in html(await dispatch(text("/terms", user_id=3003, language_code="zh"), ctx))


async def test_admins_hear_once_when_stock_falls_below_the_threshold(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)  # threshold 2
    await dispatch(press("buy:STEAM-50:1"), ctx)
    assert not await claim_outbox(uow(), now=clock.now())
    await dispatch(press("buy:STEAM-50:1", user_id=2002), ctx)
    await dispatch(press("buy:STEAM-50:1", user_id=2003), ctx)
    [alert] = await claim_outbox(uow(), now=clock.now())
    [message] = (await render_outbox(alert, ctx)).actions
    assert isinstance(message, SendText) and message.chat_id == 42
    assert "Low stock" in message.html and "has 0 left" in message.html


async def test_stock_status_is_for_admins_only(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    assert "admins only" in html(await dispatch(text("/stock"), ctx))
    status = html(await dispatch(text("/stock", user_id=42), ctx))
    assert "<code>STEAM-50</code> Steam" in status and "3 stocked = 3 available" in status


async def test_stock_adds_up_to_every_key_stocked_counting_held_sold_returned_and_bad(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=30)
    refunded, reported, _kept = [await buy_and_pay(ctx, user_id=u) for u in (2001, 2002, 2003)]
    await dispatch(press("buy:STEAM-50:1", 2004), ctx)  # held, not paid
    async with uow() as work:
        await work.card_keys.return_to_stock(refunded, clock.now())
        [(key_id, _)] = await work.card_keys.sold_keys(reported)
        await work.card_keys.mark_bad(key_id, reported, clock.now())
        await work.commit()
    status = html(await dispatch(text("/stock", user_id=42), ctx))
    assert (
        "30 stocked = 27 available + 1 held + 1 sold + 1 found bad"
        " (1 of the available refunded to stock)"
    ) in status


async def test_a_product_with_nothing_left_shows_as_out_of_stock_not_low(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=0)
    status = html(await dispatch(text("/stock", user_id=42), ctx))
    assert "⛔ <code>STEAM-50</code>" in status and "(out of stock)" in status
    assert "(low)" not in status and "⚠️" not in status


async def test_an_order_over_what_one_stars_invoice_carries_is_offered_the_wallet_only(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=12, price_stars=2_000, price_minor=20_000)
    small = await dispatch(press("buy:STEAM-50:2"), ctx)  # 4,000 Stars: one invoice holds it
    assert button(small, "paystars:")
    big = await dispatch(press("buy:STEAM-50:10", user_id=2002), ctx)  # 20,000 Stars
    assert not [b for b in buttons(big) if b.data and b.data.startswith("paystars:")]
    order_id = await order_id_on(button(big, "cancel:"), ctx.uow)
    forged = await dispatch(press(f"paystars:{order_id}", user_id=2002), ctx)
    assert isinstance(forged[0], AnswerButton) and "at most 10000" in (forged[0].text or "")
    assert not [a for a in forged if isinstance(a, SendInvoice)]


async def test_stock_status_cuts_a_long_product_name_between_words(
    ctx: ShopContext, uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    long_name = "Steam Wallet gift card for the China region worth fifty yuan"
    await stocked_shop(uow, cipher, clock, stock=3, name_en=long_name)
    status = html(await dispatch(text("/stock", user_id=42), ctx))
    assert "<code>STEAM-50</code> Steam Wallet gift card for the China…" in status
