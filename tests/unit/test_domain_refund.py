"""Refund's rules: which orders may be refunded, why a refund is refused, where the money goes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.domain.model import OrderStatus, PaymentMethod
from store.domain.refund import RefundRules, refund_refusal, refundable, wallet_refund_due
from tests.factories import PAID_AT, order

RULES = RefundRules(window_days=7)
WINDOW_END = PAID_AT + timedelta(days=7)


def test_unrevealed_keys_within_the_window_are_refunded_without_questions() -> None:
    assert refund_refusal(order(OrderStatus.DELIVERED), PAID_AT, RULES) is None


def test_the_last_moment_of_the_window_still_counts() -> None:
    assert refund_refusal(order(OrderStatus.PAID), WINDOW_END, RULES) is None


def test_a_second_past_the_window_is_refused_as_out_of_the_window() -> None:
    late = WINDOW_END + timedelta(seconds=1)
    assert refund_refusal(order(OrderStatus.PAID), late, RULES) == "window"


def test_revealed_keys_are_refused_so_the_buyer_reports_a_bad_key_instead() -> None:
    shown = order(OrderStatus.DELIVERED, revealed_at=PAID_AT)
    assert refund_refusal(shown, PAID_AT, RULES) == "revealed"


def test_an_order_awaiting_stock_may_always_be_refunded() -> None:
    waiting = order(OrderStatus.AWAITING_STOCK)
    assert refund_refusal(waiting, WINDOW_END + timedelta(days=30), RULES) is None


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.EXPIRED,
        OrderStatus.REFUNDING,
        OrderStatus.REFUNDED,
    ],
)
def test_an_order_not_paid_or_already_refunded_is_refused_by_its_status(
    status: OrderStatus,
) -> None:
    assert refund_refusal(order(status), PAID_AT, RULES) == status.value
    assert refund_refusal(order(status), PAID_AT, None) == status.value


def test_an_agent_may_refund_any_paid_order_revealed_or_late() -> None:
    shown_long_ago = order(OrderStatus.DELIVERED, revealed_at=PAID_AT)
    assert refund_refusal(shown_long_ago, WINDOW_END + timedelta(days=365), None) is None


def test_only_paid_orders_not_refunded_yet_are_refundable() -> None:
    assert {s for s in OrderStatus if refundable(order(s))} == {
        OrderStatus.PAID,
        OrderStatus.DELIVERED,
        OrderStatus.AWAITING_STOCK,
    }


def test_a_wallet_payment_goes_back_to_the_wallet_whole() -> None:
    by_wallet = order(OrderStatus.DELIVERED, payment_method=PaymentMethod.WALLET)
    assert wallet_refund_due(by_wallet, credited_minor=0) == 4800


def test_a_stars_payment_with_nothing_credited_goes_back_through_telegram() -> None:
    assert wallet_refund_due(order(OrderStatus.DELIVERED), credited_minor=0) is None


def test_once_part_went_to_the_wallet_the_rest_follows_it_there() -> None:
    stars_order = order(OrderStatus.DELIVERED, quantity=2, total_minor=9600)
    assert wallet_refund_due(stars_order, credited_minor=4800) == 4800


def test_a_refund_never_credits_more_than_the_order_cost() -> None:
    by_wallet = order(OrderStatus.DELIVERED, payment_method=PaymentMethod.WALLET)
    assert wallet_refund_due(by_wallet, credited_minor=4800) == 0
    assert wallet_refund_due(by_wallet, credited_minor=5000) == 0
