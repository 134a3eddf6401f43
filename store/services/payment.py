"""Taking payment: pre-checkout checks, applying each charge once, wallet payment.

Every charge Telegram took ends one of two ways: applied (an order paid, a wallet topped up)
or refunded. A charge that cannot be applied (a second payment of a paid order, the wrong
amount or currency, an order that is not the payer's) is recorded, refunded through the
refund state machine, and reported to the admins; it is never credited or delivered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from store.domain.errors import InsufficientBalance, OrderChanged, OrderNotPayable
from store.domain.ledger import CLEARING, EXTERNAL_STARS, wallet
from store.domain.model import (
    LedgerReason,
    Order,
    OrderStatus,
    PaymentMethod,
    PaymentOutcome,
    PreCheckoutVerdict,
    RefundReason,
)
from store.domain.order import HoldRules, payable
from store.domain.outbox import ADMINS_CHAT, AdminAlert, AwaitingStock, Delivery
from store.domain.payment import (
    PAYMENT_GRACE,
    STARS,
    InvoicePayload,
    TopupRules,
    charge_refusal,
    pre_checkout_refusal,
    wallet_covers,
)
from store.services.books import (
    book_payment,
    book_refused_charge,
    book_sale,
    paid_into_clearing,
)
from store.services.order import locked_order, move_order
from store.services.ports import NewUnitOfWork, UnitOfWork
from store.services.refund import StarRefunder, carry_out_refund


async def _hold_for_payment(
    uow: UnitOfWork, order: Order, now: datetime, rules: HoldRules
) -> Order | None:
    """The locked order with its keys held for the payment under way (re-held if its hold
    lapsed and stock remains), or None when they cannot be."""
    held = await uow.card_keys.held_for(order.id)
    if order.status is OrderStatus.AWAITING_PAYMENT and held == order.quantity:
        if order.expires_at < now + PAYMENT_GRACE:
            await uow.orders.set_expiry(order.id, now + PAYMENT_GRACE)
        return order
    if not payable(order):
        return None
    await uow.card_keys.release(order.id, now)
    claimed = await uow.card_keys.claim(order.sku, order.id, order.quantity, now)
    if len(claimed) != order.quantity:
        await uow.card_keys.release(order.id, now)
        return None
    return await move_order(
        uow,
        order,
        OrderStatus.AWAITING_PAYMENT,
        expires_at=max(now + PAYMENT_GRACE, now + timedelta(minutes=rules.minutes)),
    )


async def check_pre_checkout(
    uow: UnitOfWork,
    *,
    user_id: int,
    payload: str,
    currency: str,
    amount: int,
    now: datetime,
    rules: HoldRules,
    topup: TopupRules,
) -> PreCheckoutVerdict:
    """Decide a pre_checkout_query: fast, local, no network."""
    parsed = InvoicePayload.parse(payload)
    if parsed is None or parsed.order_id is None or currency != STARS:  # decided without a read
        refusal = pre_checkout_refusal(
            parsed, None, payer=user_id, currency=currency, amount=amount, topup=topup
        )
        return PreCheckoutVerdict(refusal is None, refusal)
    async with uow:
        order = await uow.orders.lock(parsed.order_id)
        refusal = pre_checkout_refusal(
            parsed, order, payer=user_id, currency=currency, amount=amount, topup=topup
        )
        if refusal is not None or order is None:
            return PreCheckoutVerdict(False, refusal)
        if await _hold_for_payment(uow, order, now, rules) is None:
            await uow.commit()
            return PreCheckoutVerdict(False, "out_of_stock")
        await uow.commit()
    return PreCheckoutVerdict(True)


def _source(order: Order, method: PaymentMethod) -> str:
    """The account an order's money comes from."""
    return wallet(order.user_id) if method is PaymentMethod.WALLET else EXTERNAL_STARS


async def _sell(
    uow: UnitOfWork, order: Order, method: PaymentMethod, now: datetime, source: str | None = None
) -> Order:
    """Sell the keys held for a locked order, book the sale (escrow for each key's supplier) and
    queue its delivery, in the caller's transaction. The money comes from `source` (default:
    the payment's own, the wallet or Stars)."""
    sold = await uow.card_keys.sell(order.id, now)
    if sold != order.quantity:  # the hold was checked under the lock: this is a bug
        raise OrderChanged(f"order {order.id}: sold {sold} of {order.quantity} keys")
    await book_sale(uow, order, source or _source(order, method), now)
    paid = await move_order(
        uow,
        order,
        OrderStatus.PAID,
        paid_at=order.paid_at or now,
        payment_method=method,
    )
    await uow.outbox.add(Delivery(order.id), order.user_id, f"delivery:{order.id}", now)
    return paid


async def fulfil_paid_order(uow: UnitOfWork, order_id: int, now: datetime) -> bool:
    """Give an order that was paid while out of stock its keys, if there are enough now."""
    order = await uow.orders.lock(order_id)
    if order is None or order.status is not OrderStatus.AWAITING_STOCK:
        return False
    claimed = await uow.card_keys.claim(order.sku, order.id, order.quantity, now)
    if len(claimed) != order.quantity:
        await uow.card_keys.release(order.id, now)
        return False
    method = order.payment_method or PaymentMethod.STARS
    # paid while out of stock: the money waits in clearing (unless paid before the ledger had it)
    source = CLEARING if await paid_into_clearing(uow, order) else _source(order, method)
    await _sell(uow, order, method, now, source)
    return True


async def _fulfil_or_wait(
    uow: UnitOfWork, order: Order, method: PaymentMethod, now: datetime, rules: HoldRules
) -> Order:
    held = await _hold_for_payment(uow, order, now, rules)
    if held is not None:
        return await _sell(uow, held, method, now)
    waiting = await move_order(
        uow, order, OrderStatus.AWAITING_STOCK, paid_at=now, payment_method=method
    )
    await book_payment(uow, order, _source(order, method), now, stars=order.total_stars)
    await uow.outbox.add(AwaitingStock(order.id), order.user_id, f"waiting:{order.id}", now)
    alert = f"Order {order.reference} was paid but {order.sku} has no stock for it: awaiting stock."
    await uow.outbox.add(AdminAlert(alert, order.id), ADMINS_CHAT, f"alert:waiting:{order.id}", now)
    return waiting


async def confirm_payment(
    new_uow: NewUnitOfWork,
    *,
    user_id: int,
    payload: str,
    currency: str,
    amount: int,
    charge_id: str,
    now: datetime,
    rules: HoldRules,
    topup: TopupRules,
    refunder: StarRefunder,
) -> PaymentOutcome:
    """Apply a successful_payment exactly once per charge id, however often it arrives.

    The order is locked first, so a payment racing a cancel, the expiry job, a wallet payment
    or a second charge of the same order sees what the other committed. A charge that cannot
    be applied is refunded (after the transaction that records it) and the admins are told.
    """
    parsed = InvoicePayload.parse(payload)
    async with new_uow() as uow:
        order = await uow.orders.lock(parsed.order_id) if parsed and parsed.order_id else None
        await uow.users.ensure(user_id, "", now)
        is_new = await uow.payments.record(
            charge_id=charge_id,
            user_id=user_id,
            order_id=order.id if order else None,
            purpose="unknown" if parsed is None else "order" if parsed.order_id else "topup",
            currency=currency,
            amount=amount,
            payload=payload,
            now=now,
        )
        if not is_new:
            return PaymentOutcome(
                order=order, duplicate=True, delivered=bool(order and order.has_keys)
            )
        refusal = charge_refusal(parsed, order, payer=user_id, currency=currency, amount=amount)
        if refusal is not None:
            await _refuse_charge(uow, charge_id, user_id, amount, currency, order, refusal, now)
            if currency == STARS:
                await book_refused_charge(uow, charge_id, amount, topup.star_value_minor, now)
            await uow.commit()
        elif parsed is not None and parsed.order_id is None:
            credited = amount * topup.star_value_minor
            await uow.ledger.append(
                user_id, credited, LedgerReason.TOPUP, f"topup:{charge_id}", now, stars=amount
            )
            await uow.payments.set_outcome(charge_id, "topup")
            await uow.commit()
            return PaymentOutcome(
                order=None, duplicate=False, delivered=False, topup_minor=credited
            )
        else:
            assert order is not None
            order = await _fulfil_or_wait(uow, order, PaymentMethod.STARS, now, rules)
            delivered = order.status is OrderStatus.PAID
            await uow.payments.set_outcome(charge_id, "applied" if delivered else "awaiting")
            await uow.commit()
            return PaymentOutcome(
                order=order, duplicate=False, delivered=delivered, awaiting_stock=not delivered
            )
    refund = await carry_out_refund(new_uow, refunder, charge_id=charge_id, now=now)
    return PaymentOutcome(
        order=order, duplicate=False, delivered=False, refused=refusal, refund=refund.status
    )


async def _refuse_charge(
    uow: UnitOfWork,
    charge_id: str,
    user_id: int,
    amount: int,
    currency: str,
    order: Order | None,
    refusal: str,
    now: datetime,
) -> None:
    """Record that a charge is to be refunded, and tell the admins why."""
    await uow.payments.set_outcome(charge_id, "refused")
    await uow.refunds.request(
        charge_id=charge_id,
        user_id=user_id,
        amount=amount,
        reason=RefundReason.SECOND_CHARGE if refusal == "already_paid" else RefundReason.UNAPPLIED,
        order_id=order.id if order else None,
        now=now,
    )
    await uow.outbox.add(
        AdminAlert(
            f"A payment of {amount} {currency[:8]} by user {user_id} could not be applied "
            f"({refusal}; order {order.reference if order else 'unknown'}, "
            f"{order.status.value if order else 'missing'}): it is being refunded.",
            order.id if order else None,
        ),
        ADMINS_CHAT,
        f"alert:charge:{charge_id}",
        now,
    )


async def pay_with_wallet(
    uow: UnitOfWork,
    *,
    user_id: int,
    order_id: int,
    now: datetime,
    rules: HoldRules,
    notice_message_id: int | None = None,
) -> PaymentOutcome:
    """Pay an order from the wallet: one debit entry, keyed by the order, never below zero.

    The buyer, then the order, are locked: a paid (or cancelled) order is never debited.
    """
    async with uow:
        await uow.users.lock(user_id)
        order = await locked_order(uow, order_id, user_id)
        if not payable(order):
            raise OrderNotPayable(order.status.value)
        balance = await uow.ledger.balance(user_id)
        if not wallet_covers(balance, order):
            raise InsufficientBalance(balance, order.total_minor)
        held = await _hold_for_payment(uow, order, now, rules)
        if held is None:
            raise OrderNotPayable(OrderStatus.EXPIRED.value)
        paid = await _sell(uow, held, PaymentMethod.WALLET, now)  # debits the wallet, once
        if notice_message_id is not None:
            await uow.orders.set_notice_message(order.id, notice_message_id)
        await uow.commit()
    return PaymentOutcome(order=paid, duplicate=False, delivered=True)


async def note_payment_notice(uow: UnitOfWork, *, order_id: int, message_id: int) -> None:
    """Remember the buyer's message about this payment, for the delivery to edit in place."""
    async with uow:
        await uow.orders.set_notice_message(order_id, message_id)
        await uow.commit()
