"""The floor: the shop's key allocation as a synchronous stdlib sqlite3 loop, nothing else.

Per purchase: BEGIN IMMEDIATE, insert the order, claim one key with the same conditional
UPDATE the SQLite repository runs, check one row came back, mark it sold, COMMIT.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.bench.latency import TimedRun

_ORDER = (
    "INSERT INTO orders (user_id, sku, quantity, unit_price_minor, total_minor, total_stars,"
    " status, payment_method, created_at, expires_at, paid_at, reference)"
    " VALUES (?, ?, 1, ?, ?, ?, 'paid', 'stars', ?, ?, ?, ?) RETURNING id"
)
_CLAIM = (
    "UPDATE card_keys SET status='reserved', order_id=?"
    " WHERE id IN (SELECT id FROM card_keys WHERE sku=? AND status='available' ORDER BY id LIMIT 1)"
    " AND status='available' RETURNING id"
)
_SELL = "UPDATE card_keys SET status='sold', sold_at=? WHERE id=? AND status='reserved'"
_HOLD = timedelta(minutes=15)
_references = itertools.count(1)


class AllocationFailed(Exception):
    """The claim did not return exactly one key."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection set up as store/database.py sets up the app's: WAL, NORMAL, our own BEGIN."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=30000")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def _stamp(moment: datetime) -> str:
    """How SQLAlchemy stores a DateTime in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def add_users(connection: sqlite3.Connection, user_ids: Sequence[int]) -> None:
    """Orders need their buyer's row (foreign keys are on, as in the app)."""
    now = _stamp(datetime.now(UTC))
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT OR IGNORE INTO users (id, first_name, language, created_at)"
        " VALUES (?, '', 'en', ?)",
        [(user_id, now) for user_id in user_ids],
    )
    connection.execute("COMMIT")


def allocate(
    connection: sqlite3.Connection,
    sku: str,
    price_minor: int,
    stars: int,
    *,
    user_ids: Sequence[int],
    purchases: int,
) -> TimedRun:
    """`purchases` allocations one after another, the buyers taking turns."""
    latencies: list[float] = []
    started = time.perf_counter()
    for n in range(purchases):
        began = time.perf_counter()
        now = datetime.now(UTC)
        connection.execute("BEGIN IMMEDIATE")
        try:
            [(order_id,)] = connection.execute(
                _ORDER,
                (
                    user_ids[n % len(user_ids)],
                    sku,
                    price_minor,
                    price_minor,
                    stars,
                    _stamp(now),
                    _stamp(now + _HOLD),
                    _stamp(now),
                    f"R{next(_references):08d}",  # unique, as the app's references are
                ),
            ).fetchall()
            claimed = connection.execute(_CLAIM, (order_id, sku)).fetchall()
            if len(claimed) != 1:
                raise AllocationFailed(f"claim for order {order_id} returned {len(claimed)} keys")
            if connection.execute(_SELL, (_stamp(now), claimed[0][0])).rowcount != 1:
                raise AllocationFailed(f"key {claimed[0][0]} was not reserved for order {order_id}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        latencies.append(time.perf_counter() - began)
    return TimedRun(time.perf_counter() - started, tuple(latencies))
