"""Stock's rule: when a product's stock is low enough to tell the admins."""

from __future__ import annotations

from store.domain.model import StockLevel
from store.domain.stock import StockState, low_stock, stock_state


def test_stock_below_the_threshold_is_low() -> None:
    assert low_stock(available=4, threshold=5)


def test_stock_exactly_at_the_threshold_is_not_low_yet() -> None:
    assert not low_stock(available=5, threshold=5)


def test_no_stock_at_all_is_low() -> None:
    assert low_stock(available=0, threshold=1)


def test_a_threshold_of_zero_never_alerts_even_with_no_stock() -> None:
    assert not low_stock(available=0, threshold=0)


def test_the_admins_stock_table_marks_low_by_the_same_rule() -> None:
    def level(available: int) -> StockLevel:
        return StockLevel("STEAM-50", "Steam", available, reserved=0, sold=0, threshold=2)

    assert level(1).low and not level(2).low


def test_nothing_on_sale_is_out_of_stock_rather_than_low() -> None:
    assert stock_state(available=0, threshold=5) is StockState.OUT
    assert stock_state(available=0, threshold=0) is StockState.OUT


def test_a_few_keys_under_the_threshold_are_low_and_enough_are_in_stock() -> None:
    assert stock_state(available=1, threshold=5) is StockState.LOW
    assert stock_state(available=5, threshold=5) is StockState.IN_STOCK


def test_a_stock_level_adds_up_to_every_key_the_product_was_given() -> None:
    level = StockLevel("STEAM-50", "Steam", 27, reserved=1, sold=1, threshold=2, bad=1, returned=1)
    assert level.stocked == 30
