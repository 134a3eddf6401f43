"""What must hold of the books after anything at all: the race, property and crash tests check it.

Read straight from the tables, never through the services under test.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from store.adapters.tables import (
    card_key_events,
    card_keys,
    escrow_holds,
    ledger_entries,
    orders,
    payments,
    refunds,
)
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.model import KeyStatus, OrderStatus

WITH_KEYS = {OrderStatus.PAID.value, OrderStatus.DELIVERED.value}


@dataclass
class Books:
    """Every breach found, by kind; empty lists mean the books balance."""

    keys_in_two_orders: list[int] = field(default_factory=list)
    orders_without_their_keys: list[int] = field(default_factory=list)
    negative_wallets: list[int] = field(default_factory=list)
    charges_neither_applied_nor_refunded: list[str] = field(default_factory=list)
    charges_applied_twice: list[int] = field(default_factory=list)
    refunds_stuck: list[str] = field(default_factory=list)
    keys_sold_after_refund: list[int] = field(default_factory=list)
    orders_refunded_more_than_paid: list[int] = field(default_factory=list)
    unbalanced_transactions: list[str] = field(default_factory=list)
    escrow_not_its_holds: list[str] = field(default_factory=list)

    def breaches(self) -> dict[str, list[object]]:
        return {name: list(found) for name, found in vars(self).items() if found}


async def read_books(uow: UnitOfWorkFactory, *, settled: bool = True) -> Books:
    """Check the invariants. With `settled`, a pending refund counts as stuck (use it once the
    shop has gone quiet); without, a refund may still be on its way."""
    books = Books()
    async with uow().reading() as tx:
        c = tx.connection
        key_rows = (
            await c.execute(select(card_keys.c.id, card_keys.c.status, card_keys.c.order_id))
        ).all()
        order_rows = (await c.execute(select(orders))).all()
        events = (
            await c.execute(
                select(
                    card_key_events.c.card_key_id,
                    card_key_events.c.event,
                    card_key_events.c.order_id,
                ).order_by(card_key_events.c.id)
            )
        ).all()
        ledger = (
            await c.execute(
                select(
                    ledger_entries.c.user_id,
                    ledger_entries.c.amount_minor,
                    ledger_entries.c.order_id,
                    ledger_entries.c.idempotency_key,
                    ledger_entries.c.account,
                )
            )
        ).all()
        hold_rows = (
            await c.execute(
                select(escrow_holds.c.supplier_id, escrow_holds.c.cost_minor).where(
                    escrow_holds.c.status == "held"
                )
            )
        ).all()
        charge_rows = (await c.execute(select(payments))).all()
        refund_rows = (await c.execute(select(refunds))).all()

    # a key is sold into one order, and only again after it came back (released or refunded)
    holder: dict[int, int | None] = {}
    for key_id, event, order_id in events:
        if event == "sold":
            if holder.get(key_id) not in (None, order_id):
                books.keys_in_two_orders.append(key_id)
            holder[key_id] = order_id
        elif event in ("released", "refunded"):
            holder[key_id] = None

    held_by_order: dict[int, Counter[str]] = defaultdict(Counter)
    for _, status, order_id in key_rows:
        if order_id is not None:
            held_by_order[order_id][status] += 1
    for order in order_rows:
        held = held_by_order[order.id]
        if (
            order.status in WITH_KEYS
            and held[KeyStatus.SOLD.value] + held[KeyStatus.BAD.value] < order.quantity
        ):
            books.orders_without_their_keys.append(order.id)
        if (
            order.status == OrderStatus.REFUNDED.value
            and held[KeyStatus.SOLD.value]
            and order.revealed_at is None
        ):
            books.keys_sold_after_refund.append(order.id)

    balance: Counter[int] = Counter()
    credited: Counter[int] = Counter()
    per_transaction: Counter[str] = Counter()
    per_account: Counter[str] = Counter()
    for user_id, amount, order_id, key, account in ledger:
        per_transaction[key] += amount
        per_account[account] += amount
        if user_id is None:  # the shop's side of a wallet movement
            continue
        balance[user_id] += amount
        if order_id is not None and amount > 0:
            credited[order_id] += amount
    books.negative_wallets = sorted(u for u, total in balance.items() if total < 0)
    books.unbalanced_transactions = sorted(k for k, total in per_transaction.items() if total)
    held_cost: Counter[str] = Counter()
    for supplier_id, cost in hold_rows:
        held_cost[supplier_id] += cost
    escrows = {a.removeprefix("escrow:") for a in per_account if a.startswith("escrow:")}
    books.escrow_not_its_holds = sorted(
        s for s in escrows | set(held_cost) if per_account[f"escrow:{s}"] != held_cost[s]
    )

    refund_by_charge = {r.charge_id: r for r in refund_rows}
    applied_per_order: Counter[int] = Counter()
    for charge in charge_rows:
        refund = refund_by_charge.get(charge.charge_id)
        if charge.outcome in ("applied", "awaiting"):
            if charge.refunded_at is None:
                applied_per_order[charge.order_id] += 1
        elif charge.outcome == "topup":
            pass
        elif charge.refunded_at is None and (refund is None or refund.status == "failed"):
            books.charges_neither_applied_nor_refunded.append(charge.charge_id)
    books.charges_applied_twice = sorted(o for o, n in applied_per_order.items() if n > 1)
    stars_back = {
        charge.order_id
        for charge in charge_rows
        if charge.order_id is not None
        and charge.outcome in ("applied", "awaiting")
        and charge.refunded_at is not None
    }
    for order in order_rows:  # money back: wallet credits, plus the whole charge if refunded
        back = credited[order.id] + (order.total_minor if order.id in stars_back else 0)
        if back > order.total_minor:
            books.orders_refunded_more_than_paid.append(order.id)
    if settled:
        books.refunds_stuck = sorted(r.charge_id for r in refund_rows if r.status == "pending")
    return books
