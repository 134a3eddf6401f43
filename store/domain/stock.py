"""Stock's rule: when a product's stock is low enough to tell the admins."""

from __future__ import annotations


def low_stock(available: int, threshold: int) -> bool:
    """Fewer keys on sale than the product's threshold (a threshold of 0 never alerts)."""
    return available < threshold
