"""Reconciliation with Telegram's own record of payments, the one record every crash spares.

At start-up and every few minutes the bot reads getStarTransactions from where it last got to
(with some overlap) and compares it with its payments: a charge it never recorded is applied
through the normal payment path (delivered, or refunded when it cannot be); a refund Telegram
shows but the shop has not settled is recorded; then refunds a crash left pending resume.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from store.domain.model import OrderStatus, RefundReason, RefundStatus, StarTransaction
from store.domain.order import HoldRules
from store.domain.outbox import ADMINS_CHAT, AdminAlert
from store.domain.payment import STARS, TopupRules
from store.domain.refund import refundable
from store.services.order import move_order
from store.services.payment import confirm_payment
from store.services.ports import NewUnitOfWork, UnitOfWork
from store.services.refund import StarRefunder, resume_refunds, settle_refund

log = logging.getLogger(__name__)

CHECKPOINT = "star_transactions"
PAGE = 100
OVERLAP = 200
"""Transactions re-read before the checkpoint, in case one landed while the last run read."""


class StarLedger(Protocol):
    """getStarTransactions through the running bot: oldest first; `offset` skips, `limit` ≤ 100."""

    async def star_transactions(self, offset: int, limit: int) -> Sequence[StarTransaction]: ...


@dataclass(frozen=True)
class ReconciliationReport:
    read: int
    charges_applied: int
    """Charges Telegram took that the shop had not recorded (a crash, a lost update)."""
    refunds_recorded: int
    """Refunds Telegram made that the shop had not settled."""
    refunds_resumed: int


async def reconcile_payments(
    new_uow: NewUnitOfWork,
    ledger: StarLedger,
    refunder: StarRefunder,
    *,
    now: datetime,
    rules: HoldRules,
    topup: TopupRules,
) -> ReconciliationReport:
    """Bring the shop's payments in line with Telegram's record; see the module docstring."""
    async with new_uow().reading() as uow:
        checkpoint = await uow.checkpoints.get(CHECKPOINT)
    offset = max(0, checkpoint - OVERLAP)
    transactions: list[StarTransaction] = []
    while True:
        page = list(await ledger.star_transactions(offset, PAGE))
        transactions.extend(page)
        offset += len(page)
        if len(page) < PAGE:
            break
    refunded = {t.id for t in transactions if not t.incoming}
    charges = [t for t in transactions if t.incoming and t.user_id is not None]
    async with new_uow().reading() as uow:
        known = await uow.payments.known([t.id for t in charges])
    applied = 0
    for charge in charges:
        if charge.id in known:
            continue
        assert charge.user_id is not None
        if charge.id in refunded:
            await _record_refunded_charge(new_uow, charge, now)
            continue
        outcome = await confirm_payment(
            new_uow,
            user_id=charge.user_id,
            payload=charge.payload,
            currency=STARS,
            amount=charge.amount,
            charge_id=charge.id,
            now=now,
            rules=rules,
            topup=topup,
            refunder=refunder,
        )
        if not outcome.duplicate:  # the update itself may have been handled meanwhile
            applied += 1
            log.warning("reconciliation applied a charge the bot had not recorded")
    recorded = 0
    for charge_id in sorted(refunded):
        recorded += await _note_refund(new_uow, charge_id, now)
    resumed = await resume_refunds(new_uow, refunder, now=now, refunded_by_telegram=refunded)
    async with new_uow() as uow:
        await uow.checkpoints.set(CHECKPOINT, max(checkpoint, offset), now)
        await uow.commit()
    return ReconciliationReport(len(transactions), applied, recorded, resumed)


async def _record_refunded_charge(
    new_uow: NewUnitOfWork, charge: StarTransaction, now: datetime
) -> None:
    """Paid and refunded while the shop never saw either: recorded, nothing delivered."""
    assert charge.user_id is not None
    async with new_uow() as uow:
        await uow.users.ensure(charge.user_id, "", now)
        if await uow.payments.record(
            charge_id=charge.id,
            user_id=charge.user_id,
            order_id=None,
            purpose="unknown",
            currency=STARS,
            amount=charge.amount,
            payload=charge.payload,
            now=now,
            outcome="refused",
        ):
            await uow.payments.mark_refunded(charge.id, now)
        await uow.commit()


async def _note_refund(new_uow: NewUnitOfWork, charge_id: str, now: datetime) -> int:
    """A refund Telegram shows: settle the shop's side of it if that is not done yet."""
    async with new_uow() as uow:
        refund = await uow.refunds.get(charge_id)
        if refund is not None and refund.status is RefundStatus.DONE:
            return 0
        if refund is not None and refund.status is RefundStatus.PENDING:
            await settle_refund(uow, refund, now, notify=True)
            await uow.commit()
            return 1
        if await uow.payments.refunded_at(charge_id) is not None:
            return 0
        settled = await _record_outside_refund(uow, charge_id, now)
        await uow.commit()
        return settled


async def _record_outside_refund(uow: UnitOfWork, charge_id: str, now: datetime) -> int:
    """Telegram refunded a charge the shop did not ask it to (the owner did, say): the order
    it paid is refunded on the shop's side too, and the admins are told."""
    payment = await uow.payments.get(charge_id)
    if payment is None:
        return 0
    order = await uow.orders.lock(payment.order_id) if payment.order_id else None
    paid_by_this = (
        order is not None
        and refundable(order)
        and await uow.payments.charge_for_order(order.id) == charge_id
    )
    before = order.status if order is not None and paid_by_this else None
    if order is not None and paid_by_this:
        await move_order(uow, order, OrderStatus.REFUNDING)
    requested = await uow.refunds.request(
        charge_id=charge_id,
        user_id=payment.user_id,
        amount=payment.amount,
        reason=RefundReason.OUTSIDE,
        order_id=order.id if order is not None and paid_by_this else None,
        order_status_before=before,
        now=now,
    )
    if not requested and before is not None:
        await uow.refunds.renew(charge_id, RefundReason.OUTSIDE, None, before, now)
    refund = await uow.refunds.get(charge_id)
    assert refund is not None
    await settle_refund(uow, refund, now, notify=True)
    await uow.outbox.add(
        AdminAlert(
            f"Telegram shows a refund of {payment.amount} Stars to user {payment.user_id} "
            f"that the shop did not make (order {payment.order_id or 'none'}, "
            f"{payment.outcome or 'unknown'}); it is recorded.",
            payment.order_id,
        ),
        ADMINS_CHAT,
        f"alert:outside-refund:{charge_id}",
        now,
    )
    return 1
