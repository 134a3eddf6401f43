"""Keeping the books: each money movement of a sale, a refund or a bad key, as one balanced
transaction written in the caller's database transaction (store.domain.ledger says how)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.domain.errors import OrderChanged
from store.domain.ledger import (
    REFUNDS_DUE,
    BookFigures,
    BookProblem,
    EscrowRules,
    Hold,
    SoldKey,
    book_problems,
    deposit,
    escrow,
    key_prices,
    payable,
    payment,
    refund,
    refused_charge,
    refused_charge_returned,
    replacement,
    sale,
    settlement,
    supplier_charge,
)
from store.domain.model import LedgerReason, Order
from store.services.ports import NewUnitOfWork, UnitOfWork


@dataclass(frozen=True)
class SupplierMoney:
    deposit_minor: int
    escrow_minor: int
    """Held for keys still in their after-sales window."""
    payable_minor: int
    """Settled and not yet paid out: what the shop owes the supplier."""
    paid_out_minor: int


async def supplier_money(uow: UnitOfWork, supplier_id: str) -> SupplierMoney:
    """In the caller's transaction."""
    paid_out = sum(
        -entry.amount_minor
        for entry, _ in await uow.ledger.postings_of([payable(supplier_id)], None)
        if entry.reason is LedgerReason.PAYOUT
    )
    return SupplierMoney(
        deposit_minor=await uow.ledger.account_balance(deposit(supplier_id)),
        escrow_minor=await uow.ledger.account_balance(escrow(supplier_id)),
        payable_minor=await uow.ledger.account_balance(payable(supplier_id)),
        paid_out_minor=paid_out,
    )


SETTLE_CHUNK = 500
"""Holds settled per database transaction by the settlement job."""


def _paid_key(order_id: int) -> str:
    return f"paid:{order_id}"


async def book_payment(
    uow: UnitOfWork, order: Order, source: str, now: datetime, stars: int | None = None
) -> None:
    """An order paid while out of stock: the money waits in clearing until its keys are sold."""
    await uow.ledger.post(
        payment(order.id, order.total_minor, source, _paid_key(order.id), stars), now
    )


async def book_sale(uow: UnitOfWork, order: Order, source: str, now: datetime) -> None:
    """The order's keys were just sold: hold each supplier's cost in escrow, and take the money
    from `source`: the wallet, Stars, or clearing for an order paid while out of stock.

    A second sale of one order is refused (OrderChanged): its key was written once.
    """
    sold = await uow.escrow.sold_keys(order.id)
    prices = key_prices(order.total_minor, len(sold))
    keys = [
        SoldKey(k.card_key_id, k.supplier_id, k.cost_minor, price)
        for k, price in zip(sold, prices, strict=True)
    ]
    if not await uow.ledger.post(sale(order.id, keys, source), now):
        raise OrderChanged(f"order {order.id} was paid for before")
    await uow.escrow.hold(order.id, keys, now)


async def paid_into_clearing(uow: UnitOfWork, order: Order) -> bool:
    """Whether the order's money waits in clearing (it was paid while out of stock)."""
    return await uow.ledger.written(_paid_key(order.id))


async def book_refund(
    uow: UnitOfWork,
    order: Order,
    *,
    amount_minor: int,
    destination: str,
    reason: LedgerReason,
    idempotency_key: str,
    now: datetime,
    case_id: int | None = None,
    case_key_id: int | None = None,
) -> None:
    """Money back to the buyer for a whole order: the escrow still held for it is cancelled.

    With a case, the key it is about was confirmed bad: its supplier is charged for it.
    """
    cancelled = await uow.escrow.cancel(order.id, now, case_id=case_id)
    unsold = order.total_minor if await _unsold(uow, order) else 0
    await uow.ledger.post(
        refund(
            reason,
            idempotency_key,
            order_id=order.id,
            amount_minor=amount_minor,
            destination=destination,
            cancelled=cancelled,
            unsold_minor=unsold,
            case_id=case_id,
        ),
        now,
    )
    if case_key_id is not None:
        forfeited = next((h for h in cancelled if h.card_key_id == case_key_id), None)
        charge = forfeited.price_minor if forfeited else amount_minor
        await _charge_supplier(uow, order, case_key_id, charge, forfeited, case_id, now)


async def book_bad_key_refund(
    uow: UnitOfWork,
    order: Order,
    *,
    card_key_id: int,
    case_id: int,
    amount_minor: int,
    destination: str,
    now: datetime,
) -> None:
    """One key of an order confirmed bad and refunded: its escrow is cancelled, the buyer paid
    back, and its supplier charged the refund."""
    cancelled = await uow.escrow.cancel(order.id, now, key_ids=[card_key_id], case_id=case_id)
    await uow.ledger.post(
        refund(
            LedgerReason.BAD_KEY_REFUND,
            f"case:{case_id}",
            order_id=order.id,
            amount_minor=amount_minor,
            destination=destination,
            cancelled=cancelled,
            case_id=case_id,
        ),
        now,
    )
    forfeited = cancelled[0] if cancelled else None
    await _charge_supplier(uow, order, card_key_id, amount_minor, forfeited, case_id, now)


async def book_replacement(
    uow: UnitOfWork,
    order: Order,
    *,
    bad_key_id: int,
    new_key_id: int,
    case_id: int,
    now: datetime,
) -> None:
    """A bad key replaced by another: the bad key's escrow is cancelled, the new key's supplier
    is held its cost, and the bad key's supplier is charged what the replacement cost."""
    cancelled = await uow.escrow.cancel(order.id, now, key_ids=[bad_key_id], case_id=case_id)
    bad = cancelled[0] if cancelled else None
    [new] = await uow.escrow.sold_keys(order.id, [new_key_id])
    price = bad.price_minor if bad else key_prices(order.total_minor, order.quantity)[0]
    new = SoldKey(new.card_key_id, new.supplier_id, new.cost_minor, price)
    await uow.ledger.post(
        replacement(f"replace:{case_id}", order_id=order.id, case_id=case_id, bad=bad, new=new),
        now,
    )
    await uow.escrow.hold(order.id, [new], now)
    await _charge_supplier(uow, order, bad_key_id, new.cost_minor, bad, case_id, now)


async def book_refused_charge(
    uow: UnitOfWork, charge_id: str, stars: int, star_value_minor: int, now: datetime
) -> None:
    """Stars that came in and will go back (the refund state machine sends them)."""
    await uow.ledger.post(refused_charge(charge_id, stars * star_value_minor), now)


async def book_refused_charge_returned(uow: UnitOfWork, charge_id: str, now: datetime) -> None:
    """Telegram gave back a charge the shop refused: what was owed for it is settled."""
    owed = (await uow.ledger.posted(f"refused:{charge_id}")).get(REFUNDS_DUE, 0)
    if owed:
        await uow.ledger.post(refused_charge_returned(charge_id, owed), now)


async def _charge_supplier(
    uow: UnitOfWork,
    order: Order,
    card_key_id: int,
    charge_minor: int,
    forfeited: Hold | None,
    case_id: int | None,
    now: datetime,
) -> None:
    supplier_id, _ = await uow.escrow.supplier_of(card_key_id)
    charge = supplier_charge(
        supplier_id,
        charge_minor,
        forfeited,
        order_id=order.id,
        case_id=case_id,
        idempotency_key=f"charge:{case_id}" if case_id else f"charge:{order.id}:{card_key_id}",
    )
    if charge is not None:
        await uow.ledger.post(charge, now)


async def _unsold(uow: UnitOfWork, order: Order) -> bool:
    """Paid for (into clearing) and never sold: the order waited for stock."""
    return await uow.ledger.written(_paid_key(order.id)) and not await uow.ledger.written(
        f"sale:{order.id}"
    )


async def settle_escrow(new_uow: NewUnitOfWork, *, now: datetime, rules: EscrowRules) -> int:
    """Release the escrow of every key whose after-sales window is over; how many were settled.

    Each hold is claimed (held → released) and its settlement written in one transaction, so a
    second run, or one after a crash, finds nothing left to settle.
    """
    settled = 0
    while True:
        async with new_uow() as uow:
            due = await uow.escrow.due(rules.sold_before(now), SETTLE_CHUNK)
            released = set(await uow.escrow.release([h.id for h in due], now))
            await uow.ledger.post_many([settlement(h) for h in due if h.id in released], now)
            await uow.commit()
        settled += len(released)
        if len(due) < SETTLE_CHUNK:
            return settled


async def check_books(uow: UnitOfWork) -> list[BookProblem]:
    """What `ledger check` reports: every way the books disagree (nothing: they hold)."""
    async with uow.reading():
        figures = BookFigures(
            unbalanced=await uow.ledger.unbalanced(),
            balances=await uow.ledger.balances(),
            held_by_supplier=await uow.ledger.held_by_supplier(),
            clearing_by_order=await uow.ledger.clearing_by_order(),
        )
    return book_problems(figures)
