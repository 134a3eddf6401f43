"""After a run: every sold key belongs to exactly one order, and no key was ever sold twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SoldOnce:
    sold: int
    distinct_orders: int
    """Distinct order_id among sold keys; equals `sold` when no key went to two orders."""
    sold_again: int
    """Keys whose history records more than one sale (the raw loop keeps no history: 0)."""
    at_least: int
    """Purchases that must have sold a key (completed ones)."""
    at_most: int
    """Purchases attempted; a failed one may or may not have got as far as the sale."""
    shown: int | None = None
    """Keys the buyers were shown, one per completed purchase (conversation only)."""
    delivered: int | None = None
    """Of those, distinct keys that we stocked; equals `shown` when no buyer got another's key."""

    @property
    def ok(self) -> bool:
        buyers_saw_each_once = self.shown is None or self.shown == self.delivered == self.at_least
        return (
            self.sold == self.distinct_orders
            and self.sold_again == 0
            and self.at_least <= self.sold <= self.at_most
            and buyers_saw_each_once
        )

    def describe(self) -> str:
        expected = str(self.at_least)
        if self.at_most != self.at_least:
            expected += f"..{self.at_most}"
        text = (
            f"{self.sold} sold keys, {self.distinct_orders} distinct orders among them"
            f" (expected {expected}), {self.sold_again} keys sold twice in their history"
        )
        if self.shown is not None:
            text += f"; buyers were shown {self.shown} keys, {self.delivered} distinct stocked ones"
        return f"{'ok' if self.ok else 'FAILED'}: {text}"

    def summary(self) -> dict[str, int | bool | None]:
        return {
            "ok": self.ok,
            "sold": self.sold,
            "distinct_orders": self.distinct_orders,
            "sold_again": self.sold_again,
            "expected_at_least": self.at_least,
            "expected_at_most": self.at_most,
            "shown": self.shown,
            "delivered": self.delivered,
        }


def check_sold_once(
    path: Path,
    *,
    at_least: int,
    at_most: int,
    shown: Collection[str] | None = None,
    stocked: Collection[str] = (),
) -> SoldOnce:
    """Read the database file after its engine is gone; `shown` are the keys buyers received."""
    with closing(sqlite3.connect(path)) as connection:
        sold, distinct_orders = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT order_id) FROM card_keys WHERE status = 'sold'"
        ).fetchone()
        (sold_again,) = connection.execute(
            "SELECT COUNT(*) FROM (SELECT card_key_id FROM card_key_events WHERE event = 'sold'"
            " GROUP BY card_key_id HAVING COUNT(*) > 1)"
        ).fetchone()
    if shown is None:
        return SoldOnce(sold, distinct_orders, sold_again, at_least, at_most)
    delivered = len(set(shown).intersection(stocked))
    return SoldOnce(sold, distinct_orders, sold_again, at_least, at_most, len(shown), delivered)
