"""Payment's rules: what an invoice names, and which charges and checkouts are refused, and why."""

from __future__ import annotations

import pytest

from store.domain.model import MAX_INVOICE_STARS, OrderStatus
from store.domain.payment import (
    STARS,
    InvoicePayload,
    TopupRules,
    charge_refusal,
    invoice_refusal,
    pre_checkout_refusal,
    topup_allowed,
    wallet_covers,
)
from tests.factories import order

BUYER = 1001
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(50, 100))
UNPAID = order(OrderStatus.AWAITING_PAYMENT)
ORDER = InvoicePayload(order_id=UNPAID.id)


def test_an_invoice_payload_reads_back_as_what_it_names() -> None:
    for payload in (ORDER, InvoicePayload(topup_user_id=BUYER, topup_stars=50)):
        assert InvoicePayload.parse(payload.encode()) == payload


@pytest.mark.parametrize(
    "payload", ["", "order:", "order:0", "order:01", "order:١", "order:1:2", "topup:1001", "x:1"]
)
def test_a_payload_the_shop_never_wrote_names_nothing(payload: str) -> None:
    assert InvoicePayload.parse(payload) is None


def test_a_charge_of_the_buyers_own_unpaid_order_at_its_price_is_applied() -> None:
    assert charge_refusal(ORDER, UNPAID, payer=BUYER, currency=STARS, amount=480) is None


def test_a_charge_of_an_expired_order_is_still_applied() -> None:
    expired = order(OrderStatus.EXPIRED)
    assert charge_refusal(ORDER, expired, payer=BUYER, currency=STARS, amount=480) is None


@pytest.mark.parametrize(
    ("payload", "payer", "currency", "amount", "reason"),
    [
        (None, BUYER, STARS, 480, "unknown_payload"),
        (ORDER, BUYER, "USD", 480, "mismatch"),
        (ORDER, BUYER, STARS, 479, "mismatch"),
        (ORDER, 1002, STARS, 480, "not_yours"),
        (InvoicePayload(order_id=99), BUYER, STARS, 480, "not_found"),
    ],
)
def test_a_charge_that_cannot_be_applied_names_why(
    payload: InvoicePayload | None, payer: int, currency: str, amount: int, reason: str
) -> None:
    found = UNPAID if payload == ORDER else None
    assert charge_refusal(payload, found, payer=payer, currency=currency, amount=amount) == reason


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.REFUNDED])
def test_a_second_charge_of_an_order_paid_already_is_refused(status: OrderStatus) -> None:
    paid = order(status)
    assert charge_refusal(ORDER, paid, payer=BUYER, currency=STARS, amount=480) == "already_paid"


def test_a_top_up_is_applied_only_for_its_own_buyer_and_amount() -> None:
    topup = InvoicePayload(topup_user_id=BUYER, topup_stars=50)
    assert charge_refusal(topup, None, payer=BUYER, currency=STARS, amount=50) is None
    assert charge_refusal(topup, None, payer=1002, currency=STARS, amount=50) == "not_yours"
    assert charge_refusal(topup, None, payer=BUYER, currency=STARS, amount=49) == "mismatch"


def test_a_checkout_of_the_buyers_unpaid_order_goes_ahead() -> None:
    assert (
        pre_checkout_refusal(ORDER, UNPAID, payer=BUYER, currency=STARS, amount=480, topup=TOPUP)
        is None
    )


def test_a_checkout_of_a_paid_order_is_not_payable_rather_than_already_paid() -> None:
    paid = order(OrderStatus.PAID)
    refusal = pre_checkout_refusal(
        ORDER, paid, payer=BUYER, currency=STARS, amount=480, topup=TOPUP
    )
    assert refusal == "not_payable"


def test_a_checkout_keeps_the_charges_reasons_for_an_order() -> None:
    def refusal(payer: int, amount: int) -> str | None:
        return pre_checkout_refusal(
            ORDER, UNPAID, payer=payer, currency=STARS, amount=amount, topup=TOPUP
        )

    assert refusal(1002, 480) == "not_yours"
    assert refusal(BUYER, 481) == "mismatch"
    missing = pre_checkout_refusal(
        ORDER, None, payer=BUYER, currency=STARS, amount=480, topup=TOPUP
    )
    assert missing == "not_found"


def test_a_checkout_of_a_top_up_goes_ahead_only_for_an_offered_amount() -> None:
    def refusal(stars: int, payer: int = BUYER, amount: int | None = None) -> str | None:
        topup = InvoicePayload(topup_user_id=BUYER, topup_stars=stars)
        return pre_checkout_refusal(
            topup, None, payer=payer, currency=STARS, amount=amount or stars, topup=TOPUP
        )

    assert refusal(50) is None and refusal(100) is None
    assert refusal(75) == "mismatch"  # not offered
    assert refusal(50, payer=1002) == "mismatch"  # another buyer's top-up
    assert refusal(50, amount=100) == "mismatch"


def test_a_checkout_of_a_payload_naming_nothing_or_another_currency_is_a_mismatch() -> None:
    assert (
        pre_checkout_refusal(None, None, payer=BUYER, currency=STARS, amount=1, topup=TOPUP)
        == "mismatch"
    )
    assert (
        pre_checkout_refusal(ORDER, UNPAID, payer=BUYER, currency="EUR", amount=480, topup=TOPUP)
        == "mismatch"
    )


def test_only_the_offered_top_up_amounts_are_allowed() -> None:
    assert topup_allowed(50, TOPUP) and topup_allowed(100, TOPUP)
    assert not topup_allowed(51, TOPUP)


def test_a_wallet_holding_exactly_the_total_covers_the_order() -> None:
    assert wallet_covers(4800, UNPAID)
    assert not wallet_covers(4799, UNPAID)


def test_an_order_whose_keys_are_held_gets_an_invoice() -> None:
    assert invoice_refusal(UNPAID) is None


def test_an_invoice_may_ask_for_exactly_the_most_stars_telegram_allows_and_no_more() -> None:
    assert (
        invoice_refusal(order(OrderStatus.AWAITING_PAYMENT, total_stars=MAX_INVOICE_STARS)) is None
    )
    too_many = order(OrderStatus.AWAITING_PAYMENT, total_stars=MAX_INVOICE_STARS + 1)
    assert invoice_refusal(too_many) == "too_many_stars"


@pytest.mark.parametrize("status", [OrderStatus.EXPIRED, OrderStatus.PAID, OrderStatus.REFUNDED])
def test_an_order_whose_keys_are_not_held_gets_no_invoice_and_its_status_says_why(
    status: OrderStatus,
) -> None:
    assert invoice_refusal(order(status)) == status.value
