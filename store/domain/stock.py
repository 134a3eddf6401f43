"""Stock's rules: when a product's stock is low enough to tell the admins, and how it reads."""

from __future__ import annotations

from enum import StrEnum


class StockState(StrEnum):
    IN_STOCK = "in stock"
    LOW = "low"
    OUT = "out"
    """Nothing on sale: worse than low, and said so."""


def low_stock(available: int, threshold: int) -> bool:
    """Fewer keys on sale than the product's threshold (a threshold of 0 never alerts)."""
    return available < threshold


def stock_state(available: int, threshold: int) -> StockState:
    """Out when nothing is on sale (whatever the threshold), low below the threshold."""
    if available == 0:
        return StockState.OUT
    return StockState.LOW if low_stock(available, threshold) else StockState.IN_STOCK
