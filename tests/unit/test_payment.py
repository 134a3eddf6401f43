"""Taking payment: pre-checkout, applying each charge once, top-ups and the wallet, on fakes."""

from __future__ import annotations

import pytest

from store.domain.errors import InsufficientBalance, OrderNotPayable
from store.domain.model import (
    KeyStatus,
    LedgerReason,
    Order,
    OrderStatus,
    PaymentOutcome,
    RefundStatus,
)
from store.domain.order import HoldRules
from store.domain.outbox import ADMINS_CHAT, AdminAlert, AwaitingStock, Delivery
from store.domain.payment import PAYMENT_GRACE, TopupRules
from store.services.order import cancel_order, expire_reservations, reserve_keys
from store.services.payment import (
    check_pre_checkout,
    confirm_payment,
    note_payment_notice,
    pay_with_wallet,
)
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, stocked_shop
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork, wallet_postings

CIPHER = FakeCipher()
BUYER, OTHER = 1001, 1002
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(50, 100))
RULES = HoldRules()


async def shop_with_order(
    clock: FakeClock, stock: int = 5, quantity: int = 1
) -> tuple[FakeDatabase, Order]:
    db = FakeDatabase()
    await stocked_shop(db.unit_of_work, CIPHER, clock, stock=stock)
    reservation = await reserve_keys(
        FakeUnitOfWork(db),
        user_id=BUYER,
        first_name="Li",
        sku="STEAM-50",
        quantity=quantity,
        now=clock.now(),
        rules=RULES,
    )
    return db, reservation.order


async def pre_checkout(
    db: FakeDatabase, clock: FakeClock, payload: str, amount: int, user_id: int = BUYER
) -> tuple[bool, str | None]:
    verdict = await check_pre_checkout(
        FakeUnitOfWork(db),
        user_id=user_id,
        payload=payload,
        currency="XTR",
        amount=amount,
        now=clock.now(),
        rules=RULES,
        topup=TOPUP,
    )
    return verdict.ok, verdict.reason


async def pay(
    db: FakeDatabase,
    clock: FakeClock,
    payload: str,
    amount: int,
    charge_id: str = "ch-1",
    refunder: FakeRefunder | None = None,
    currency: str = "XTR",
) -> PaymentOutcome:
    return await confirm_payment(
        db.unit_of_work,
        user_id=BUYER,
        payload=payload,
        currency=currency,
        amount=amount,
        charge_id=charge_id,
        now=clock.now(),
        rules=RULES,
        topup=TOPUP,
        refunder=refunder or FakeRefunder(),
    )


async def test_a_pre_checkout_for_the_buyers_held_order_is_approved(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock)
    assert await pre_checkout(db, clock, f"order:{order.id}", order.total_stars) == (True, None)


async def test_a_pre_checkout_is_refused_for_what_does_not_match(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock)
    payload = f"order:{order.id}"
    assert await pre_checkout(db, clock, payload, order.total_stars, OTHER) == (False, "not_yours")
    assert await pre_checkout(db, clock, payload, order.total_stars + 1) == (False, "mismatch")
    assert await pre_checkout(db, clock, "order:99", 480) == (False, "not_found")
    assert await pre_checkout(db, clock, "free keys", 480) == (False, "mismatch")


async def test_a_pre_checkout_keeps_a_lapsing_hold_while_telegram_completes_the_payment(
    clock: FakeClock,
) -> None:
    db, order = await shop_with_order(clock)
    clock.advance(minutes=14)
    assert (await pre_checkout(db, clock, f"order:{order.id}", order.total_stars))[0]
    assert db.tables.orders[order.id].expires_at == clock.now() + PAYMENT_GRACE


async def test_a_pre_checkout_for_an_expired_order_holds_its_keys_again_if_stock_remains(
    clock: FakeClock,
) -> None:
    db, order = await shop_with_order(clock, stock=1)
    clock.advance(minutes=20)
    await expire_reservations(FakeUnitOfWork(db), now=clock.now())
    assert (await pre_checkout(db, clock, f"order:{order.id}", order.total_stars))[0]
    assert db.tables.orders[order.id].status is OrderStatus.AWAITING_PAYMENT
    assert [k.status for k in db.tables.card_keys.values()] == [KeyStatus.RESERVED]


async def test_a_pre_checkout_for_a_top_up_needs_an_allowed_amount_for_the_payer(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    assert await pre_checkout(db, clock, f"topup:{BUYER}:50", 50) == (True, None)
    assert await pre_checkout(db, clock, f"topup:{BUYER}:70", 70) == (False, "mismatch")
    assert await pre_checkout(db, clock, f"topup:{OTHER}:50", 50) == (False, "mismatch")


async def test_a_payment_sells_the_held_keys_and_queues_the_delivery(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock, quantity=2)
    outcome = await pay(db, clock, f"order:{order.id}", order.total_stars)
    assert outcome.delivered and not outcome.duplicate and outcome.order is not None
    assert db.tables.orders[order.id].status is OrderStatus.PAID
    assert [k.status for k in db.tables.card_keys.values()].count(KeyStatus.SOLD) == 2
    assert db.outbox() == [(BUYER, Delivery(order.id))]
    assert db.tables.payments["ch-1"].outcome == "applied"


async def test_a_payment_arriving_twice_is_applied_once(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock)
    await pay(db, clock, f"order:{order.id}", order.total_stars)
    again = await pay(db, clock, f"order:{order.id}", order.total_stars)
    assert again.duplicate and again.delivered
    assert len(db.outbox()) == 1 and len(db.tables.payments) == 1


async def test_a_second_charge_of_a_paid_order_is_refunded_and_the_admins_are_told(
    clock: FakeClock,
) -> None:
    db, order = await shop_with_order(clock)
    await pay(db, clock, f"order:{order.id}", order.total_stars, "ch-1")
    refunder = FakeRefunder()
    second = await pay(db, clock, f"order:{order.id}", order.total_stars, "ch-2", refunder)
    assert second.refused == "already_paid" and second.refund is RefundStatus.DONE
    assert refunder.refunded == [(BUYER, "ch-2")]
    assert db.tables.orders[order.id].status is OrderStatus.PAID  # the first charge stands
    [(chat, alert)] = [(c, p) for c, p in db.outbox() if isinstance(p, AdminAlert)]
    assert chat == ADMINS_CHAT and "already_paid" in alert.text


async def test_a_payment_of_the_wrong_amount_is_refunded_not_applied(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock)
    refunder = FakeRefunder()
    outcome = await pay(db, clock, f"order:{order.id}", order.total_stars - 1, refunder=refunder)
    assert outcome.refused == "mismatch" and not outcome.delivered
    assert refunder.refunded == [(BUYER, "ch-1")]
    assert db.tables.orders[order.id].status is OrderStatus.AWAITING_PAYMENT


async def test_a_top_up_credits_the_wallet_with_the_stars_value(clock: FakeClock) -> None:
    db = FakeDatabase()
    outcome = await pay(db, clock, f"topup:{BUYER}:50", 50)
    assert outcome.topup_minor == 500
    [entry] = wallet_postings(db.tables)
    assert (entry.amount_minor, entry.reason, entry.stars) == (500, LedgerReason.TOPUP, 50)


async def test_a_paid_order_that_finds_no_stock_waits_for_stock(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock, stock=1)
    await cancel_order(FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, now=clock.now())
    await reserve_keys(
        FakeUnitOfWork(db),
        user_id=OTHER,
        first_name="",
        sku="STEAM-50",
        quantity=1,
        now=clock.now(),
        rules=RULES,
    )  # someone else holds the last key
    outcome = await pay(db, clock, f"order:{order.id}", order.total_stars)
    assert outcome.awaiting_stock and not outcome.delivered
    assert db.tables.orders[order.id].status is OrderStatus.AWAITING_STOCK
    kinds = [type(p) for _, p in db.outbox()]
    assert AwaitingStock in kinds and AdminAlert in kinds


async def test_the_wallet_pays_an_order_once_and_never_below_zero(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock)
    with pytest.raises(InsufficientBalance):
        await pay_with_wallet(
            FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, now=clock.now(), rules=RULES
        )
    await credit_wallet(
        FakeUnitOfWork(db),
        user_id=BUYER,
        amount_minor=order.total_minor,
        reason="cash",
        idempotency_key="k1",
        now=clock.now(),
    )
    paid = await pay_with_wallet(
        FakeUnitOfWork(db),
        user_id=BUYER,
        order_id=order.id,
        now=clock.now(),
        rules=RULES,
        notice_message_id=77,
    )
    assert paid.delivered and paid.order is not None and paid.order.status is OrderStatus.PAID
    assert sum(e.amount_minor for e in wallet_postings(db.tables)) == 0
    assert db.tables.orders[order.id].notice_message_id == 77
    with pytest.raises(OrderNotPayable):
        await pay_with_wallet(
            FakeUnitOfWork(db), user_id=BUYER, order_id=order.id, now=clock.now(), rules=RULES
        )


async def test_the_payment_notice_is_remembered_once(clock: FakeClock) -> None:
    db, order = await shop_with_order(clock)
    for message_id in (5, 6):
        await note_payment_notice(FakeUnitOfWork(db), order_id=order.id, message_id=message_id)
    assert db.tables.orders[order.id].notice_message_id == 5
