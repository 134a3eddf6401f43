"""The books' rules, pure: every transaction balances, and each movement lands where it should."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.domain.ledger import (
    CLEARING,
    EXTERNAL_STARS,
    MARGIN,
    RECOVERIES,
    UNEARNED,
    BookFigures,
    EscrowRules,
    Hold,
    LedgerError,
    Posting,
    SoldKey,
    Transaction,
    book_problems,
    deposit,
    escrow,
    key_prices,
    payable,
    refund,
    replacement,
    sale,
    settlement,
    supplier_charge,
    transaction,
    wallet,
)
from store.domain.model import LedgerReason

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def _amounts(entry: Transaction) -> dict[str, int]:
    return {p.account: p.amount_minor for p in entry.postings}


def _hold(cost: int = 4000, price: int = 4800, supplier: str = "acme") -> Hold:
    return Hold(1, 10, 7, supplier, cost, price, NOW)


def test_a_transaction_whose_postings_do_not_sum_to_zero_is_refused() -> None:
    with pytest.raises(LedgerError):
        Transaction(LedgerReason.SALE, "k", (Posting("a", 1), Posting("b", -2)))
    with pytest.raises(LedgerError):
        Transaction(LedgerReason.SALE, "k", (Posting("a", 0),))
    with pytest.raises(LedgerError):
        Transaction(LedgerReason.SALE, "", (Posting("a", 1), Posting("b", -1)))


def test_postings_to_one_account_are_summed_and_zeros_dropped() -> None:
    entry = transaction(LedgerReason.SALE, "k", [("a", 5), ("b", -3), ("a", -2), ("c", 0)])
    assert _amounts(entry) == {"a": 3, "b": -3}


@given(st.integers(0, 10**9), st.integers(1, 1000))
def test_key_prices_are_whole_units_that_add_up_to_the_total(total: int, count: int) -> None:
    prices = key_prices(total, count)
    assert sum(prices) == total and max(prices) - min(prices) <= 1


def test_a_sale_holds_each_suppliers_cost_and_leaves_the_margin_unearned() -> None:
    keys = [SoldKey(1, "acme", 4000, 4800), SoldKey(2, "bravo", 4200, 4800)]
    assert _amounts(sale(7, keys, wallet(1001))) == {
        wallet(1001): -9600,
        escrow("acme"): 4000,
        escrow("bravo"): 4200,
        UNEARNED: 1400,
    }
    assert sale(7, keys, wallet(1001)).reason is LedgerReason.PURCHASE
    assert sale(7, keys).reason is LedgerReason.SALE


def test_settlement_makes_the_cost_payable_and_the_margin_earned() -> None:
    assert _amounts(settlement(_hold())) == {
        escrow("acme"): -4000,
        payable("acme"): 4000,
        UNEARNED: -800,
        MARGIN: 800,
    }


def test_a_refund_of_an_order_never_sold_comes_out_of_clearing() -> None:
    entry = refund(
        LedgerReason.REFUND,
        "r",
        order_id=7,
        amount_minor=4800,
        destination=EXTERNAL_STARS,
        cancelled=[],
        unsold_minor=4800,
    )
    assert _amounts(entry) == {EXTERNAL_STARS: 4800, CLEARING: -4800}


def test_a_refund_after_the_escrow_settled_is_the_shops_loss() -> None:
    entry = refund(
        LedgerReason.REFUND, "r", order_id=7, amount_minor=4800, destination=wallet(1), cancelled=[]
    )
    assert _amounts(entry) == {wallet(1): 4800, MARGIN: -4800}


def test_a_bad_key_is_charged_from_its_own_escrow_first_then_the_deposit() -> None:
    charge = supplier_charge("acme", 4800, _hold(), order_id=7, case_id=3, idempotency_key="c")
    assert charge is not None and _amounts(charge) == {deposit("acme"): -800, RECOVERIES: 800}
    cheap = supplier_charge("acme", 3000, _hold(), order_id=7, case_id=3, idempotency_key="c")
    assert cheap is None  # the forfeited escrow covered it
    assert supplier_charge("house", 4800, None, order_id=7, case_id=3, idempotency_key="c") is None


def test_a_replacement_moves_the_escrow_to_the_new_keys_supplier() -> None:
    new = SoldKey(11, "bravo", 4200, 0)
    entry = replacement("x", order_id=7, case_id=3, bad=_hold(), new=new)
    assert _amounts(entry) == {escrow("bravo"): 4200, escrow("acme"): -4000, UNEARNED: -200}


def test_book_problems_name_what_disagrees() -> None:
    figures = BookFigures(
        unbalanced={"sale:1": -1000},
        balances={escrow("acme"): 3000, wallet(5): -1, CLEARING: 4800, EXTERNAL_STARS: -7799},
        held_by_supplier={"acme": 4000},
        clearing_by_order={1: (4800, "paid", 4800)},
    )
    found = [str(p) for p in book_problems(figures)]
    assert found == [
        "transaction sale:1 does not balance: its postings sum to -1000",
        "wallet:5 is below zero: -1",
        "escrow:acme is 3000 but its held keys cost 4000",
        "clearing holds 4800 for order 1 (paid, total 4800): only an order paid and awaiting "
        "stock waits there, for its total",
    ]
    assert book_problems(BookFigures()) == []


def test_escrow_settles_after_the_refund_window_and_its_margin() -> None:
    rules = EscrowRules(refund_window_days=7, margin_days=2)
    assert rules.sold_before(NOW) == datetime(2026, 11, 28, tzinfo=UTC)
