"""After-sales case rules: which keys may be reported, when a key is replaced with no human, and
how a confirmed bad key is refunded."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from store.domain.case import (
    NotReplaced,
    ReplacementRules,
    bad_key_refund_due,
    masked_key,
    not_replaced_because,
    not_reportable,
    refunds_through_telegram,
    replaces_automatically,
)
from store.domain.model import Order, OrderStatus, PaymentMethod
from tests.factories import PAID_AT, order

RULES = ReplacementRules(enabled=True, within_hours=24, cooldown_days=30, max_order_minor=20_000)
SHOWN = order(OrderStatus.DELIVERED, revealed_at=PAID_AT)


def automatic(
    reported: Order = SHOWN,
    now: datetime = PAID_AT + timedelta(hours=1),
    rules: ReplacementRules = RULES,
    *,
    first_report: bool = True,
    recent_replacements: int = 0,
) -> bool:
    return replaces_automatically(
        reported, now, rules, first_report=first_report, recent_replacements=recent_replacements
    )


def test_a_revealed_key_may_be_reported() -> None:
    assert not_reportable(SHOWN) is None
    assert not_reportable(order(OrderStatus.PAID, revealed_at=PAID_AT)) is None


def test_a_key_never_shown_may_not_be_reported_yet() -> None:
    assert not_reportable(order(OrderStatus.DELIVERED)) == "unrevealed"


def test_an_order_without_keys_is_refused_by_its_status() -> None:
    for status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_STOCK, OrderStatus.REFUNDED):
        assert not_reportable(order(status, revealed_at=PAID_AT)) == status.value


def test_a_first_report_soon_after_payment_on_a_small_order_is_replaced_at_once() -> None:
    assert automatic()


def test_a_report_exactly_at_the_end_of_the_window_is_still_replaced() -> None:
    assert automatic(now=PAID_AT + timedelta(hours=24))


def test_a_report_a_second_after_the_window_waits_for_an_agent() -> None:
    assert not automatic(now=PAID_AT + timedelta(hours=24, seconds=1))


def test_nothing_is_replaced_automatically_when_the_rule_is_off() -> None:
    assert not automatic(rules=replace(RULES, enabled=False))


def test_a_key_reported_before_waits_for_an_agent() -> None:
    assert not automatic(first_report=False)


def test_a_buyer_replaced_within_the_cooldown_waits_for_an_agent() -> None:
    assert not automatic(recent_replacements=1)


def test_an_order_costing_exactly_the_limit_is_replaced_and_one_more_is_not() -> None:
    at_limit = replace(SHOWN, quantity=4, unit_price_minor=5000, total_minor=20_000)
    assert automatic(at_limit)
    over = replace(at_limit, unit_price_minor=5001, total_minor=20_004)
    assert not automatic(over)


def test_an_order_with_no_payment_recorded_is_never_replaced_automatically() -> None:
    assert not automatic(replace(SHOWN, paid_at=None))


def test_a_one_key_stars_order_is_refunded_through_telegram() -> None:
    assert refunds_through_telegram(SHOWN, credited_minor=0)


def test_a_stars_refund_cannot_be_partial_so_other_orders_are_refunded_to_the_wallet() -> None:
    assert not refunds_through_telegram(replace(SHOWN, quantity=2), credited_minor=0)
    assert not refunds_through_telegram(replace(SHOWN, payment_method=PaymentMethod.WALLET), 0)
    assert not refunds_through_telegram(SHOWN, credited_minor=1)


def test_a_bad_key_refunds_its_price() -> None:
    two = replace(SHOWN, quantity=2, total_minor=9600)
    assert bad_key_refund_due(two, credited_minor=0) == 4800


def test_a_bad_key_refund_never_takes_the_order_past_what_it_cost() -> None:
    two = replace(SHOWN, quantity=2, total_minor=9600)
    assert bad_key_refund_due(two, credited_minor=6000) == 3600
    assert bad_key_refund_due(two, credited_minor=9600) == 0


def test_the_reason_a_key_waits_for_an_agent_is_the_first_rule_it_fails() -> None:
    def why(
        now: datetime = PAID_AT + timedelta(hours=1),
        rules: ReplacementRules = RULES,
        *,
        first_report: bool = True,
        recent: int = 0,
    ) -> NotReplaced | None:
        return not_replaced_because(
            SHOWN, now, rules, first_report=first_report, recent_replacements=recent
        )

    assert why() is None
    assert why(rules=replace(RULES, enabled=False)) is NotReplaced.DISABLED
    assert why(first_report=False) is NotReplaced.REPEAT
    assert why(now=PAID_AT + timedelta(hours=25)) is NotReplaced.LATE
    assert why(recent=1) is NotReplaced.COOLDOWN
    assert why(rules=replace(RULES, max_order_minor=100)) is NotReplaced.LARGE


def test_a_masked_key_shows_at_most_a_quarter_of_it_and_a_short_key_nothing() -> None:
    assert masked_key("ABCD-EFGH-IJKL-5V94") == "…5V94"
    assert masked_key("STEAM-50-000000") == "…000"
    assert masked_key("12345678") == "…78"
    assert masked_key("1234567") == "…"
    for key in ("ABCD-EFGH-IJKL-5V94", "X" * 40, "12345678"):
        assert len(masked_key(key)) - 1 <= min(4, len(key) // 4)
