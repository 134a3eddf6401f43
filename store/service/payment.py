"""Taking payment: pre-checkout checks, idempotent confirmation, wallet payment, refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store.errors import InsufficientBalance, OrderNotPayable
from store.model import (
    Order,
    OrderStatus,
    OutboxKind,
    PaymentMethod,
    PaymentOutcome,
    PreCheckoutVerdict,
)
from store.service.order import ADMINS_CHAT, HoldRules, owned_order
from store.unit_of_work import UnitOfWork

STARS = "XTR"
PAYMENT_GRACE = timedelta(minutes=5)
"""How long keys stay held after an approved pre-checkout, while Telegram completes payment."""


@dataclass(frozen=True)
class InvoicePayload:
    """What an invoice's payload names: an order, or a wallet top-up for one user."""

    order_id: int | None = None
    topup_user_id: int | None = None
    topup_stars: int = 0

    def encode(self) -> str:
        if self.order_id is not None:
            return f"order:{self.order_id}"
        return f"topup:{self.topup_user_id}:{self.topup_stars}"

    @classmethod
    def parse(cls, payload: str) -> InvoicePayload | None:
        kind, _, rest = payload.partition(":")
        parts = rest.split(":")
        if kind == "order" and len(parts) == 1 and parts[0].isdigit():
            return cls(order_id=int(parts[0]))
        if kind == "topup" and len(parts) == 2 and all(p.isdigit() for p in parts):
            return cls(topup_user_id=int(parts[0]), topup_stars=int(parts[1]))
        return None


@dataclass(frozen=True)
class TopupRules:
    star_value_minor: int
    allowed_stars: tuple[int, ...]


async def _hold_for_payment(uow: UnitOfWork, order: Order, now: datetime, rules: HoldRules) -> bool:
    """Make sure the order's keys are held for the payment now under way; re-reserve if lapsed."""
    held = await uow.card_keys.held_for(order.id)
    if order.status is OrderStatus.AWAITING_PAYMENT and held == order.quantity:
        if order.expires_at < now + PAYMENT_GRACE:
            await uow.orders.set_expiry(order.id, now + PAYMENT_GRACE)
        return True
    if order.status not in (OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED):
        return False
    await uow.card_keys.release(order.id, now)
    claimed = await uow.card_keys.claim(order.sku, order.id, order.quantity, now)
    if len(claimed) != order.quantity:
        await uow.card_keys.release(order.id, now)
        return False
    await uow.orders.move(
        order.id,
        [OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED],
        OrderStatus.AWAITING_PAYMENT,
        expires_at=max(now + PAYMENT_GRACE, now + timedelta(minutes=rules.minutes)),
    )
    return True


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
    if parsed is None or currency != STARS:
        return PreCheckoutVerdict(False, "mismatch")
    if parsed.order_id is None:
        fits = parsed.topup_user_id == user_id and parsed.topup_stars in topup.allowed_stars
        return (
            PreCheckoutVerdict(True)
            if fits and amount == parsed.topup_stars
            else PreCheckoutVerdict(False, "mismatch")
        )
    async with uow:
        order = await uow.orders.get(parsed.order_id)
        if order is None:
            return PreCheckoutVerdict(False, "not_found")
        if order.user_id != user_id:
            return PreCheckoutVerdict(False, "not_yours")
        if amount != order.total_stars:
            return PreCheckoutVerdict(False, "mismatch")
        if order.status not in (OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED):
            return PreCheckoutVerdict(False, "not_payable")
        if not await _hold_for_payment(uow, order, now, rules):
            await uow.commit()
            return PreCheckoutVerdict(False, "out_of_stock")
        await uow.commit()
    return PreCheckoutVerdict(True)


async def _fulfil(uow: UnitOfWork, order: Order, method: PaymentMethod, now: datetime) -> None:
    """Sell the held keys and queue the delivery, in the caller's transaction."""
    await uow.card_keys.sell(order.id, now)
    await uow.orders.move(
        order.id,
        [OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED, OrderStatus.AWAITING_STOCK],
        OrderStatus.PAID,
        paid_at=order.paid_at or now,
        payment_method=method.value,
    )
    await uow.outbox.add(
        OutboxKind.DELIVERY, order.user_id, f"delivery:{order.id}", now, order_id=order.id
    )


async def fulfil_paid_order(
    uow: UnitOfWork, order: Order, method: PaymentMethod, now: datetime
) -> bool:
    """Give an order that was paid while out of stock its keys, if there are enough now."""
    claimed = await uow.card_keys.claim(order.sku, order.id, order.quantity, now)
    if len(claimed) != order.quantity:
        await uow.card_keys.release(order.id, now)
        return False
    await _fulfil(uow, order, method, now)
    return True


async def _fulfil_or_wait(
    uow: UnitOfWork, order: Order, method: PaymentMethod, now: datetime, rules: HoldRules
) -> bool:
    if await _hold_for_payment(uow, order, now, rules):
        await _fulfil(uow, order, method, now)
        return True
    await uow.orders.move(
        order.id,
        [OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED],
        OrderStatus.AWAITING_STOCK,
        paid_at=now,
        payment_method=method.value,
    )
    await uow.outbox.add(
        OutboxKind.AWAITING_STOCK, order.user_id, f"waiting:{order.id}", now, order_id=order.id
    )
    await uow.outbox.add(
        OutboxKind.ADMIN_ALERT,
        ADMINS_CHAT,
        f"alert:waiting:{order.id}",
        now,
        order_id=order.id,
        body=f"Order #{order.id} was paid but {order.sku} has no stock for it: awaiting stock.",
    )
    return False


async def confirm_payment(
    uow: UnitOfWork,
    *,
    user_id: int,
    payload: str,
    currency: str,
    amount: int,
    charge_id: str,
    now: datetime,
    rules: HoldRules,
    topup: TopupRules,
) -> PaymentOutcome:
    """Act on a successful_payment exactly once per charge id, however often it arrives."""
    parsed = InvoicePayload.parse(payload) or InvoicePayload(topup_user_id=user_id, topup_stars=0)
    async with uow:
        await uow.users.ensure(user_id, "", now)
        is_new = await uow.payments.record(
            charge_id=charge_id,
            user_id=user_id,
            order_id=parsed.order_id,
            purpose="order" if parsed.order_id is not None else "topup",
            currency=currency,
            amount=amount,
            payload=payload,
            now=now,
        )
        order = await uow.orders.get(parsed.order_id) if parsed.order_id is not None else None
        if not is_new:
            return PaymentOutcome(
                order=order, duplicate=True, delivered=bool(order and order.has_keys)
            )
        if parsed.order_id is None:
            credited = amount * topup.star_value_minor
            await uow.ledger.append(
                user_id, credited, f"Top-up {amount} Stars", f"topup:{charge_id}", now
            )
            await uow.commit()
            return PaymentOutcome(
                order=None, duplicate=False, delivered=False, topup_minor=credited
            )
        if (
            order is None
            or order.user_id != user_id
            or order.status
            not in (
                OrderStatus.AWAITING_PAYMENT,
                OrderStatus.EXPIRED,
            )
        ):
            await uow.outbox.add(
                OutboxKind.ADMIN_ALERT,
                ADMINS_CHAT,
                f"alert:charge:{charge_id}",
                now,
                order_id=parsed.order_id,
                body=f"Payment of {amount} {currency} by user {user_id} for order "
                f"#{parsed.order_id} could not be applied (order is "
                f"{order.status.value if order else 'missing'}); check and refund.",
            )
            await uow.commit()
            return PaymentOutcome(order=order, duplicate=False, delivered=False)
        delivered = await _fulfil_or_wait(uow, order, PaymentMethod.STARS, now, rules)
        order = await uow.orders.get(order.id)
        await uow.commit()
    return PaymentOutcome(
        order=order, duplicate=False, delivered=delivered, awaiting_stock=not delivered
    )


async def pay_with_wallet(
    uow: UnitOfWork, *, user_id: int, order_id: int, now: datetime, rules: HoldRules
) -> PaymentOutcome:
    """Pay an order from the wallet: one debit entry, keyed by the order, never below zero."""
    async with uow:
        await uow.users.lock(user_id)
        order = await owned_order(uow, order_id, user_id)
        if order.status not in (OrderStatus.AWAITING_PAYMENT, OrderStatus.EXPIRED):
            raise OrderNotPayable(order.status.value)
        balance = await uow.ledger.balance(user_id)
        if balance < order.total_minor:
            raise InsufficientBalance(balance, order.total_minor)
        if not await _hold_for_payment(uow, order, now, rules):
            raise OrderNotPayable(OrderStatus.EXPIRED.value)
        await uow.ledger.append(
            user_id,
            -order.total_minor,
            f"Order #{order.id}",
            f"order:{order.id}",
            now,
            order_id=order.id,
        )
        await _fulfil(uow, order, PaymentMethod.WALLET, now)
        paid = await uow.orders.get(order.id)
        await uow.commit()
    return PaymentOutcome(order=paid, duplicate=False, delivered=True)
