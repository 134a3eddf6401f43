"""Refunds: the buyer's self-service, an agent's decision, and charges that could not be applied.

A Stars refund is a small state machine, keyed by the charge it gives back: it is recorded
(`pending`, the order `refunding`) and committed before Telegram is called, then settled
(`done`: the order `refunded`, its keys back on sale or retired) or given up (`failed`: the
order back where it was). A crash, or Telegram out of reach, leaves it `pending`; the
reconciliation job resumes it, after asking Telegram's own record whether the money already
went back, so a charge is never refunded twice and keys never stay sold after a refund.
Wallet refunds need no such care: the credit and the order's change are one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from store.domain.errors import NotYourOrder, OrderNotFound, RefundFailed, RefundNotAllowed
from store.domain.ledger import EXTERNAL_STARS, wallet
from store.domain.model import (
    CaseStatus,
    Language,
    LedgerReason,
    Order,
    OrderStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from store.domain.outbox import ADMINS_CHAT, AdminAlert, CaseDecided, Refunded
from store.domain.refund import RefundRules, refund_refusal, wallet_refund_due
from store.services.books import book_refund, book_refused_charge_returned
from store.services.order import locked_order, move_order
from store.services.ports import NewUnitOfWork, UnitOfWork
from store.services.supplier import note_bad_key
from store.services.user import language_of

__all__ = ["RefundFailed", "RefundOutcome", "StarRefunder"]

log = logging.getLogger(__name__)

REFUND_LEASE = timedelta(seconds=30)
"""A refund claimed longer ago than this was left by a crashed run and is taken again."""

_ORDER_REASONS = (RefundReason.BUYER, RefundReason.AGENT, RefundReason.CASE, RefundReason.OUTSIDE)


class StarRefunder(Protocol):
    """The port to Telegram's refundStarPayment, implemented by each runtime.

    Returns once Telegram has refunded (or says the charge was already refunded); raises
    `RefundFailed` when Telegram refuses for good; anything else means "try again later".
    """

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None: ...


@dataclass(frozen=True)
class RefundOutcome:
    order: Order | None
    status: RefundStatus
    """`done`, or `pending` when Telegram could not be reached yet: the job finishes it."""
    buyer_language: Language = Language.EN
    """The language to tell the buyer in, when someone else (an agent) refunded."""
    wallet_minor: int | None = None
    """Credited to the buyer's wallet (None: the Stars went back through Telegram)."""
    balance_minor: int | None = None
    """The wallet's balance after that credit."""


async def refund_order(
    new_uow: NewUnitOfWork,
    *,
    user_id: int,
    order_id: int,
    now: datetime,
    refunder: StarRefunder,
    rules: RefundRules | None,
) -> RefundOutcome:
    """Refund an order: Stars through Telegram, wallet payments (and remainders) to the wallet.

    With `rules`, the buyer's self-service: only unrevealed keys within the window. Without
    (an agent's decision), any paid order. Unrevealed keys return to stock; revealed ones, and
    any key reported bad, never do.
    """
    async with new_uow() as uow:
        order = await locked_order(uow, order_id, user_id)
        reason = refund_refusal(order, now, rules)
        if reason is not None:
            raise RefundNotAllowed(reason)
        due = wallet_refund_due(order, await uow.ledger.credited_for_order(order.id))
        if due is not None:
            refunded = await _retire_order(
                uow,
                order,
                now,
                amount_minor=due,
                destination=wallet(user_id),
                idempotency_key=f"refund:{order_id}",
            )
            balance = await uow.ledger.balance(user_id)
            await uow.commit()
            return RefundOutcome(
                refunded, RefundStatus.DONE, wallet_minor=due, balance_minor=balance
            )
        charge_id = await uow.payments.charge_for_order(order_id)
        if charge_id is None:
            raise RefundFailed("no payment recorded for this order")
        await _request(
            uow,
            order,
            charge_id,
            RefundReason.BUYER if rules else RefundReason.AGENT,
            now,
        )
        await uow.commit()
    return await carry_out_refund(new_uow, refunder, charge_id=charge_id, now=now)


@dataclass(frozen=True)
class RefundPreview:
    """What refunding an order would do, for the agent to confirm: where the money goes
    (`wallet_minor` to the wallet, else the order's Stars through Telegram) and whether the
    buyer has seen the keys (then they do not go back into stock)."""

    order: Order
    wallet_minor: int | None

    @property
    def revealed(self) -> bool:
        return self.order.revealed_at is not None


async def preview_refund_for_agent(
    uow: UnitOfWork, *, agent_id: int, order_id: int, now: datetime
) -> RefundPreview:
    """Reads only: the refund an agent is about to confirm, for the buyer they talk to; refused
    (`RefundNotAllowed`, `NotYourOrder`) as the refund itself would be."""
    async with uow.reading():
        order = await _agents_order(uow, agent_id, order_id)
        reason = refund_refusal(order, now, None)
        if reason is not None:
            raise RefundNotAllowed(reason)
        due = wallet_refund_due(order, await uow.ledger.credited_for_order(order.id))
    return RefundPreview(order, due)


async def _agents_order(uow: UnitOfWork, agent_id: int, order_id: int) -> Order:
    order = await uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if not any(t.user_id == order.user_id for t in await uow.tickets.assigned_to(agent_id)):
        raise NotYourOrder(order_id)
    return order


async def refund_order_for_agent(
    new_uow: NewUnitOfWork,
    *,
    agent_id: int,
    order_id: int,
    now: datetime,
    refunder: StarRefunder,
) -> RefundOutcome:
    """An agent refunds an order of the buyer whose conversation they hold, and no other."""
    async with new_uow().reading() as uow:
        order = await _agents_order(uow, agent_id, order_id)
        buyer_language = await language_of(uow, order.user_id)
    outcome = await refund_order(
        new_uow, user_id=order.user_id, order_id=order_id, now=now, refunder=refunder, rules=None
    )
    return replace(outcome, buyer_language=buyer_language)


async def request_case_refund(
    uow: UnitOfWork, order: Order, case_id: int, charge_id: str, now: datetime
) -> None:
    """A one-key Stars order whose key an agent confirmed bad: the whole charge goes back."""
    await _request(uow, order, charge_id, RefundReason.CASE, now, case_id=case_id)


async def _request(
    uow: UnitOfWork,
    order: Order,
    charge_id: str,
    reason: RefundReason,
    now: datetime,
    case_id: int | None = None,
) -> None:
    """Inside the caller's transaction: the order becomes `refunding`, the refund `pending`."""
    await move_order(uow, order, OrderStatus.REFUNDING)
    requested = await uow.refunds.request(
        charge_id=charge_id,
        user_id=order.user_id,
        amount=order.total_stars,
        reason=reason,
        order_id=order.id,
        case_id=case_id,
        order_status_before=order.status,
        now=now,
    )
    # Refused by Telegram before (`failed`, the order put back): asked again, try again.
    if not requested and not await uow.refunds.renew(charge_id, reason, case_id, order.status, now):
        raise RefundNotAllowed(OrderStatus.REFUNDING.value)


async def carry_out_refund(
    new_uow: NewUnitOfWork,
    refunder: StarRefunder,
    *,
    charge_id: str,
    now: datetime,
    notify: bool = False,
) -> RefundOutcome:
    """Call Telegram for a pending refund and settle it; `notify` tells the buyer afterwards.

    Raises `RefundFailed` when Telegram refuses for good (the refund is then `failed`).
    """
    async with new_uow() as uow:
        refund = await uow.refunds.claim(charge_id, now, now - REFUND_LEASE)
        await uow.commit()
    if refund is None:  # settled already, or another run is on it
        return await _current(new_uow, charge_id)
    try:
        await refunder.refund_star_payment(refund.user_id, charge_id)
    except RefundFailed as refused:
        async with new_uow() as uow:
            await _give_up(uow, refund, now, str(refused))
            await uow.commit()
        raise
    except Exception as error:  # Telegram out of reach: leave it for the job
        log.warning("refund of a charge for order %s waits: %s", refund.order_id, type(error))
        try:
            async with new_uow() as uow:
                await uow.refunds.release(charge_id, type(error).__name__)
                await uow.commit()
        except Exception:  # the lease runs out instead
            log.warning("could not release a refund claim; it is resumed after the lease")
        return await _current(new_uow, charge_id, fallback=RefundStatus.PENDING)
    async with new_uow() as uow:
        order = await settle_refund(uow, refund, now, notify=notify)
        await uow.commit()
    return RefundOutcome(order, RefundStatus.DONE)


async def _current(
    new_uow: NewUnitOfWork,
    charge_id: str,
    fallback: RefundStatus | None = None,
) -> RefundOutcome:
    try:
        async with new_uow().reading() as uow:
            refund = await uow.refunds.get(charge_id)
            order = await uow.orders.get(refund.order_id) if refund and refund.order_id else None
    except Exception:
        if fallback is None:
            raise
        return RefundOutcome(None, fallback)
    status = refund.status if refund else fallback or RefundStatus.PENDING
    if status is RefundStatus.FAILED:
        raise RefundFailed("Telegram refused this refund")
    return RefundOutcome(order, status)


async def settle_refund(
    uow: UnitOfWork, refund: Refund, now: datetime, *, notify: bool
) -> Order | None:
    """Telegram has refunded: record it, and finish the order (and case) it was for. Once."""
    if not await uow.refunds.finish(refund.charge_id, RefundStatus.DONE, now):
        return await uow.orders.get(refund.order_id) if refund.order_id else None
    await uow.payments.mark_refunded(refund.charge_id, now)
    order = await uow.orders.lock(refund.order_id) if refund.order_id else None
    if order is not None and refund.reason in _ORDER_REASONS:
        if order.status is OrderStatus.REFUNDING:
            case = await uow.cases.get(refund.case_id) if refund.case_id else None
            order = await _retire_order(
                uow,
                order,
                now,
                amount_minor=order.total_minor,
                destination=EXTERNAL_STARS,
                idempotency_key=f"refund:{refund.charge_id}",
                case_id=refund.case_id,
                case_key_id=case.card_key_id if case else None,
            )
        if refund.case_id is not None:
            await _close_case(uow, refund.case_id, order, now)
    elif refund.reason not in _ORDER_REASONS:  # a charge the shop refused to apply
        await book_refused_charge_returned(uow, refund.charge_id, now)
    if notify and refund.case_id is None:
        await uow.outbox.add(
            Refunded(refund.amount, refund.order_id),
            refund.user_id,
            f"refunded:{refund.charge_id}",
            now,
        )
    return order


async def _close_case(uow: UnitOfWork, case_id: int, order: Order, now: datetime) -> None:
    case = await uow.cases.get(case_id)
    if case is None:
        return
    await uow.card_keys.mark_bad(case.card_key_id, order.id, now)
    await note_bad_key(uow, card_key_id=case.card_key_id, now=now, rules=uow.supplier_rules)
    await uow.outbox.add(CaseDecided(case_id), order.user_id, f"case:{case_id}", now)


async def _give_up(uow: UnitOfWork, refund: Refund, now: datetime, error: str) -> None:
    """Telegram refused for good: the order (and case) go back as they were; admins are told."""
    if not await uow.refunds.finish(refund.charge_id, RefundStatus.FAILED, now, error):
        return
    order = await uow.orders.lock(refund.order_id) if refund.order_id else None
    if (
        order is not None
        and order.status is OrderStatus.REFUNDING
        and refund.order_status_before is not None
    ):
        await move_order(uow, order, refund.order_status_before)
    if refund.case_id is not None:
        await uow.cases.reopen(refund.case_id)
    await uow.outbox.add(
        AdminAlert(
            f"Telegram refused the refund of a {refund.amount} Stars charge by user "
            f"{refund.user_id} (order {refund.order_id or 'none'}): {error[:200]}",
            refund.order_id,
        ),
        ADMINS_CHAT,
        f"alert:refund:{refund.charge_id}",
        now,
    )


async def _retire_order(
    uow: UnitOfWork,
    order: Order,
    now: datetime,
    *,
    amount_minor: int,
    destination: str,
    idempotency_key: str,
    case_id: int | None = None,
    case_key_id: int | None = None,
) -> Order:
    """The order is refunded: unrevealed keys go back on sale; revealed or reported ones never
    do (a key that was shown may have been used); open cases on it are settled by the refund.
    The books give `amount_minor` back to `destination`, cancelling the escrow still held; a
    case's key, confirmed bad, is charged to its supplier."""
    await book_refund(
        uow,
        order,
        amount_minor=amount_minor,
        destination=destination,
        reason=LedgerReason.REFUND,
        idempotency_key=idempotency_key,
        now=now,
        case_id=case_id,
        case_key_id=case_key_id,
    )
    reported = await uow.cases.keys_reported(order.id)
    for key_id, _ in await uow.card_keys.sold_keys(order.id):
        if order.revealed_at is not None or key_id in reported:
            await uow.card_keys.mark_bad(key_id, order.id, now)
            await note_bad_key(uow, card_key_id=key_id, now=now, rules=uow.supplier_rules)
    if order.revealed_at is None:
        await uow.card_keys.return_to_stock(order.id, now)
    await uow.cases.settle_open_for_order(order.id, CaseStatus.REFUNDED, now)
    return await move_order(uow, order, OrderStatus.REFUNDED, refunded_at=now)


async def resume_refunds(
    new_uow: NewUnitOfWork,
    refunder: StarRefunder,
    *,
    now: datetime,
    refunded_by_telegram: Collection[str] = (),
    limit: int = 50,
) -> int:
    """Finish refunds a crash or an outage left pending; returns how many were settled.

    A charge Telegram's record already shows as refunded is settled without calling it again.
    """
    async with new_uow().reading() as uow:
        waiting = await uow.refunds.pending(now - REFUND_LEASE, limit)
    settled = 0
    for refund in waiting:
        if refund.charge_id in refunded_by_telegram:
            async with new_uow() as uow:
                await settle_refund(uow, refund, now, notify=True)
                await uow.commit()
            settled += 1
            continue
        try:
            outcome = await carry_out_refund(
                new_uow, refunder, charge_id=refund.charge_id, now=now, notify=True
            )
        except RefundFailed:
            continue
        settled += outcome.status is RefundStatus.DONE
    return settled
