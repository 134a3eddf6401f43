"""An order's rules: the moves it may make, when it may be paid, when its hold lapses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.domain.model import OrderStatus
from store.domain.order import (
    ORDER_MOVES,
    HoldRules,
    cancelled,
    hold_lapsed,
    may_hold_another,
    may_move,
    payable,
    quantity_allowed,
)
from tests.factories import PAID_AT, listed_product, order

S = OrderStatus


def test_every_status_has_its_moves_spelled_out() -> None:
    assert set(ORDER_MOVES) == set(OrderStatus)


def test_a_refunded_order_never_moves_again() -> None:
    assert not any(may_move(S.REFUNDED, to) for to in OrderStatus)


def test_a_lapsing_hold_may_be_renewed_in_place() -> None:
    assert may_move(S.AWAITING_PAYMENT, S.AWAITING_PAYMENT)


def test_an_expired_order_may_still_be_paid_or_wait_for_stock() -> None:
    assert may_move(S.EXPIRED, S.PAID) and may_move(S.EXPIRED, S.AWAITING_STOCK)


def test_a_delivered_order_never_goes_back_to_unpaid_or_paid() -> None:
    for to in (S.AWAITING_PAYMENT, S.EXPIRED, S.PAID, S.AWAITING_STOCK, S.DELIVERED):
        assert not may_move(S.DELIVERED, to)


def test_a_refund_telegram_refused_puts_the_order_back_where_it_was() -> None:
    for before in (S.PAID, S.DELIVERED, S.AWAITING_STOCK):
        assert may_move(before, S.REFUNDING) and may_move(S.REFUNDING, before)
    assert not may_move(S.REFUNDING, S.AWAITING_PAYMENT)


@pytest.mark.parametrize("status", [S.AWAITING_PAYMENT, S.EXPIRED, S.CANCELLED])
def test_an_unpaid_expired_or_cancelled_order_is_payable(status: OrderStatus) -> None:
    assert payable(order(status))


@pytest.mark.parametrize("status", [S.PAID, S.AWAITING_STOCK, S.DELIVERED, S.REFUNDING, S.REFUNDED])
def test_an_order_paid_once_is_never_payable_again(status: OrderStatus) -> None:
    assert not payable(order(status))


def test_a_quantity_from_one_up_to_the_order_limit_is_allowed() -> None:
    product = listed_product(order_limit=10)
    assert quantity_allowed(1, product) and quantity_allowed(10, product)
    assert not quantity_allowed(0, product)
    assert not quantity_allowed(11, product)


def test_a_buyer_at_the_cap_of_unpaid_orders_may_hold_no_more() -> None:
    rules = HoldRules(max_open=3)
    assert may_hold_another(2, rules)
    assert not may_hold_another(3, rules)


def test_a_hold_lapses_at_the_very_moment_it_expires_not_a_second_before() -> None:
    unpaid = order(S.AWAITING_PAYMENT)
    assert not hold_lapsed(unpaid, unpaid.expires_at - timedelta(seconds=1))
    assert hold_lapsed(unpaid, unpaid.expires_at)


def test_a_paid_order_past_its_hold_has_not_lapsed() -> None:
    assert not hold_lapsed(order(S.PAID), PAID_AT + timedelta(days=1))


def test_an_unpaid_order_given_up_counts_as_cancelled() -> None:
    assert cancelled(order(S.CANCELLED))


def test_an_order_whose_hold_lapsed_is_expired_not_cancelled() -> None:
    assert not cancelled(order(S.EXPIRED))


def test_a_cancelled_order_may_still_be_paid_from_an_invoice_sent_before() -> None:
    assert may_move(S.AWAITING_PAYMENT, S.CANCELLED)
    assert may_move(S.CANCELLED, S.PAID) and may_move(S.CANCELLED, S.AWAITING_STOCK)


def test_an_order_paid_before_the_cancel_arrived_is_not_cancelled() -> None:
    assert not cancelled(order(S.PAID))
    assert not cancelled(order(S.AWAITING_PAYMENT))
