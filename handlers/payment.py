"""Paying: Stars invoices, pre-checkout answers, confirmed payments, wallet payment, refunds."""

from __future__ import annotations

import asyncio
import logging

from handlers.action import (
    INVOICE_DESCRIPTION_LIMIT,
    INVOICE_TITLE_LIMIT,
    Action,
    AnswerButton,
    AnswerPreCheckout,
    Button,
    EditText,
    SendInvoice,
    SendText,
)
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, PaymentReceived, PreCheckout
from handlers.keyboard import home_row
from handlers.refund import refund_refused, refund_reply
from handlers.screen import notify, refuse, show
from handlers.summary import order_summary, summary_edit, unpayable
from handlers.text import N_, fitted, say, say_plain, shorten
from handlers.wallet_screen import wallet_screen
from store.domain.errors import (
    InsufficientBalance,
    OrderNotPayable,
    RefundFailed,
    RefundNotAllowed,
)
from store.domain.model import (
    MAX_INVOICE_STARS,
    Language,
    PreCheckoutVerdict,
    RefundStatus,
)
from store.domain.money import format_money
from store.domain.payment import InvoicePayload, invoice_refusal, topup_allowed
from store.services.order import get_order
from store.services.payment import check_pre_checkout, confirm_payment, pay_with_wallet
from store.services.refund import refund_order
from store.services.wallet import show_wallet

log = logging.getLogger(__name__)

PRE_CHECKOUT_DEADLINE = 7.0
"""Seconds to decide a pre-checkout before answering "busy": Telegram allows 10 in all."""
PRICE_LABEL_LENGTH = 32
"""The invoice's one price line, kept as short as its title (Telegram sets no limit of its own)."""


async def on_pay_stars_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """A Stars invoice for the order: one price item in XTR, the order id as payload."""
    order = await get_order(ctx.uow(), user_id=event.person.user_id, order_id=order_id)
    refusal = invoice_refusal(order)
    if refusal == "too_many_stars":
        return refuse(event, say_plain(lang, "error.too_many_stars", max=MAX_INVOICE_STARS))
    if refusal is not None:  # paid, lapsed or cancelled meanwhile: its summary says so now
        text, keyboard = order_summary(lang, order, ctx.currency)
        return [
            AnswerButton(event.callback_id, unpayable(lang, refusal), alert=True),
            EditText(event.person.chat_id, event.message_id, text, keyboard),
        ]
    name = order.product_name(lang)

    def item(cut_name: str) -> str:  # as the summary says it: "×1" only after a name with ×60
        if order.quantity == 1:
            return cut_name
        return say_plain(lang, "order.item", name=cut_name, qty=order.quantity)

    invoice = SendInvoice(
        chat_id=event.person.chat_id,
        title=shorten(say_plain(lang, "invoice.title", ref=order.reference), INVOICE_TITLE_LIMIT),
        description=fitted(INVOICE_DESCRIPTION_LIMIT, item, name),
        payload=InvoicePayload(order_id=order.id).encode(),
        stars=order.total_stars,
        label=fitted(PRICE_LABEL_LENGTH, item, name),
    )
    return [AnswerButton(event.callback_id, say_plain(lang, "invoice.sent")), invoice]


async def on_topup_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, stars: int
) -> list[Action]:
    """A Stars invoice that credits the wallet at the configured rate."""
    if not topup_allowed(stars, ctx.topup):
        return refuse(event, say_plain(lang, "error.forged"))
    amount = format_money(stars * ctx.topup.star_value_minor, ctx.currency)
    invoice = SendInvoice(
        chat_id=event.person.chat_id,
        title=say_plain(lang, "topup.title"),
        description=say_plain(lang, "topup.description", amount=amount, stars=stars),
        payload=InvoicePayload(
            topup_user_id=event.person.user_id,
            topup_stars=stars,
            wallet_message_id=event.message_id or None,
        ).encode(),
        stars=stars,
        label=say_plain(lang, "topup.title"),
    )
    return [AnswerButton(event.callback_id), invoice]


async def on_pre_checkout(event: PreCheckout, lang: Language, ctx: ShopContext) -> list[Action]:
    """ok only for the buyer's own unpaid order whose keys are (or can again be) held.

    Telegram cancels a checkout not answered within 10 s, so a decision that waits too long on
    a busy database is answered "busy, try again" (the check runs on and may still re-hold).
    """
    check = asyncio.ensure_future(
        check_pre_checkout(
            ctx.uow(),
            user_id=event.person.user_id,
            payload=event.payload,
            currency=event.currency,
            amount=event.total_amount,
            now=ctx.clock.now(),
            rules=ctx.hold,
            topup=ctx.topup,
        )
    )
    try:
        verdict: PreCheckoutVerdict = await asyncio.wait_for(
            asyncio.shield(check), PRE_CHECKOUT_DEADLINE
        )
    except TimeoutError:
        check.add_done_callback(_late_check_done)
        return [AnswerPreCheckout(event.query_id, False, say_plain(lang, "error.busy"))]
    if verdict.ok:
        return [AnswerPreCheckout(event.query_id, True)]
    refusal = say_plain(lang, PRECHECKOUT_REFUSALS[verdict.reason or "not_found"])
    return [AnswerPreCheckout(event.query_id, False, refusal)]


PRECHECKOUT_REFUSALS: dict[str, str] = {
    "not_found": N_("precheckout.not_found"),
    "not_yours": N_("precheckout.not_yours"),
    "not_payable": N_("precheckout.not_payable"),
    "out_of_stock": N_("precheckout.out_of_stock"),
    "mismatch": N_("precheckout.mismatch"),
}
"""What Telegram shows a buyer whose payment is refused before it is made, by reason code."""


def _late_check_done(check: asyncio.Future[PreCheckoutVerdict]) -> None:
    if not check.cancelled() and check.exception() is not None:
        log.warning("a late pre-checkout check failed: %s", type(check.exception()).__name__)


async def on_payment_received(
    event: PaymentReceived, lang: Language, ctx: ShopContext
) -> list[Action]:
    """The payment is applied once; delivery follows through the outbox, as an edit of this
    reply (so a delivery repeated after a crash edits the same message again)."""
    outcome = await confirm_payment(
        ctx.uow,
        user_id=event.person.user_id,
        payload=event.payload,
        currency=event.currency,
        amount=event.total_amount,
        charge_id=event.charge_id,
        now=ctx.clock.now(),
        rules=ctx.hold,
        topup=ctx.topup,
        refunder=ctx.refunder,
    )
    chat = event.person.chat_id
    if outcome.duplicate:
        return []  # Telegram repeated the update; the first one already answered
    if outcome.refused is not None:
        ref = outcome.order.reference if outcome.order else "?"
        key = (
            N_("paid.refunded")
            if outcome.refund is RefundStatus.DONE
            else N_("paid.refund_pending")
        )
        return [SendText(chat, say(lang, key, ref=ref, stars=event.total_amount))]
    if outcome.topup_minor:
        wallet = await show_wallet(ctx.uow(), user_id=event.person.user_id)
        text = say(
            lang,
            "topup.done",
            amount=format_money(outcome.topup_minor, ctx.currency),
            balance=format_money(wallet.balance_minor, ctx.currency),
        )
        done: list[Action] = [SendText(chat, text, (home_row(lang),))]
        parsed = InvoicePayload.parse(event.payload)
        if parsed is not None and parsed.wallet_message_id is not None:  # the screen it came from
            screen, keyboard = wallet_screen(lang, wallet, ctx)
            done.insert(0, EditText(chat, parsed.wallet_message_id, screen, keyboard))
        return done
    order = outcome.order
    assert order is not None
    # Nothing more here: the delivery (or, out of stock, the wait notice), written with the
    # payment and sent by the outbox at once, edits the summary into "paid, your keys are
    # ready". One message, edited once; a repeat after a crash is that same edit again.
    return []


async def on_pay_wallet_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """The order is paid from the wallet balance; delivery follows through the outbox."""
    try:
        outcome = await pay_with_wallet(
            ctx.uow(),
            user_id=event.person.user_id,
            order_id=order_id,
            now=ctx.clock.now(),
            rules=ctx.hold,
            notice_message_id=event.message_id,
        )
    except InsufficientBalance as error:
        return refuse(
            event,
            say_plain(
                lang,
                "error.balance",
                balance=format_money(error.balance, ctx.currency),
                needed=format_money(error.needed, ctx.currency),
            ),
        )
    except OrderNotPayable as error:
        return refuse(event, unpayable(lang, error.status))
    order = outcome.order
    assert order is not None
    # This message is the order's summary: the delivery, sent by the outbox at once, edits it
    # into "paid, your keys are ready" (one edit: the same edit twice is refused by Telegram).
    total = format_money(order.total_minor, ctx.currency)
    return [AnswerButton(event.callback_id, say_plain(lang, "summary.paid_wallet", total=total))]


async def on_refund_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """A paid order that found no stock (or unrevealed keys) is refunded at once."""
    try:
        outcome = await refund_order(
            ctx.uow,
            user_id=event.person.user_id,
            order_id=order_id,
            now=ctx.clock.now(),
            refunder=ctx.refunder,
            rules=ctx.refund,
        )
    except RefundNotAllowed as error:
        return refuse(event, refund_refused(lang, str(error)))
    except RefundFailed:
        return refuse(event, say_plain(lang, "refund.failed"))
    order = outcome.order
    ref = order.reference if order is not None else "?"
    replies = show(event, refund_reply(lang, outcome, ref, ctx.currency), (home_row(lang),))
    if order is not None and order.notice_message_id not in (None, event.message_id):
        summary = summary_edit(lang, order, ctx.currency, fallback=False)  # Show keys goes
        replies.extend([summary] if summary is not None else [])
    return replies


async def on_wait_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int
) -> list[Action]:
    """The buyer chooses to wait; keys are sent when stock is imported."""
    order = await get_order(ctx.uow(), user_id=event.person.user_id, order_id=order_id)
    return notify(
        event,
        say(lang, "waiting.ok"),
        ((Button(say_plain(lang, "menu.orders"), encode("order", order.reference)),),),
    )
