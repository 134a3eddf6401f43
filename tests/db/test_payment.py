"""Taking payment: once per charge id, never 'delivered' without keys, wallet never below zero."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.tables import ledger_entries, payments
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import (
    InsufficientBalance,
    NotYourOrder,
    OrderNotPayable,
    RefundFailed,
    RefundNotAllowed,
)
from store.domain.model import OrderStatus, PaymentMethod, PaymentOutcome, RefundStatus
from store.domain.order import HoldRules
from store.domain.outbox import AdminAlert, Delivery
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.services.order import expire_reservations, reserve_keys
from store.services.outbox import claim_outbox
from store.services.payment import check_pre_checkout, confirm_payment, pay_with_wallet
from store.services.refund import refund_order, resume_refunds
from store.services.reveal import reveal_keys
from store.services.stock import import_card_keys
from store.services.wallet import credit_wallet, show_wallet
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, key_file, stocked_shop
from tests.invariants import read_books

RULES = HoldRules(minutes=15, max_open=3)
RULES_REFUND = RefundRules(window_days=7)
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(50, 100))


async def _reserve(
    uow: UnitOfWorkFactory, clock: FakeClock, user_id: int = 1, quantity: int = 1
) -> int:
    reservation = await reserve_keys(
        uow(),
        user_id=user_id,
        first_name="",
        sku="STEAM-50",
        quantity=quantity,
        now=clock.now(),
        rules=RULES,
    )
    return reservation.order.id


async def _pay(
    uow: UnitOfWorkFactory,
    clock: FakeClock,
    order_id: int,
    charge: str,
    user_id: int = 1,
    stars: int = 480,
) -> PaymentOutcome:
    return await confirm_payment(
        uow,
        user_id=user_id,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=stars,
        charge_id=charge,
        now=clock.now(),
        rules=RULES,
        topup=TOPUP,
        refunder=FakeRefunder(),
    )


async def test_a_repeated_successful_payment_is_applied_once(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    stocked = await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _reserve(uow, clock)
    first = await _pay(uow, clock, order_id, "charge-1")
    again = await _pay(uow, clock, order_id, "charge-1")
    assert first.delivered and not first.duplicate
    assert again.duplicate
    deliveries = [
        i.payload
        for i in await claim_outbox(uow(), now=clock.now())
        if isinstance(i.payload, Delivery)
    ]
    assert [d.order_id for d in deliveries] == [order_id]
    keys = await reveal_keys(uow(), user_id=1, order_id=order_id, cipher=cipher, now=clock.now())
    assert keys.keys == [stocked[0]] and keys.first_reveal
    async with uow() as tx:
        assert (
            await tx.connection.execute(select(func.count()).select_from(payments))
        ).scalar_one() == 1


async def test_concurrent_duplicates_of_one_payment_deliver_once(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _reserve(uow, clock)
    outcomes = await asyncio.gather(*(_pay(uow, clock, order_id, "same-charge") for _ in range(5)))
    assert sum(not o.duplicate for o in outcomes) == 1
    async with uow() as tx:
        assert await tx.card_keys.count_available("STEAM-50") == 2


async def test_pre_checkout_refuses_another_buyers_order_and_a_wrong_amount(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _reserve(uow, clock)

    async def check(user_id: int, payload: str, amount: int) -> str | None:
        verdict = await check_pre_checkout(
            uow(),
            user_id=user_id,
            payload=payload,
            currency="XTR",
            amount=amount,
            now=clock.now(),
            rules=RULES,
            topup=TOPUP,
        )
        return None if verdict.ok else verdict.reason

    assert await check(1, f"order:{order_id}", 480) is None
    assert await check(2, f"order:{order_id}", 480) == "not_yours"
    assert await check(1, f"order:{order_id}", 1) == "mismatch"
    assert await check(1, "order:999", 480) == "not_found"
    assert await check(1, "garbage", 480) == "mismatch"


async def test_pre_checkout_re_reserves_a_lapsed_hold_while_stock_remains(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    order_id = await _reserve(uow, clock)
    clock.advance(minutes=20)
    await expire_reservations(uow(), now=clock.now())
    verdict = await check_pre_checkout(
        uow(),
        user_id=1,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=480,
        now=clock.now(),
        rules=RULES,
        topup=TOPUP,
    )
    assert verdict.ok
    outcome = await _pay(uow, clock, order_id, "late-charge")
    assert outcome.delivered


async def test_a_payment_after_the_stock_is_gone_waits_for_stock_and_is_never_delivered(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    late = await _reserve(uow, clock, user_id=1)
    clock.advance(minutes=20)
    await expire_reservations(uow(), now=clock.now())
    other = await _reserve(uow, clock, user_id=2)  # takes the only key
    outcome = await _pay(uow, clock, late, "charge-late")
    assert outcome.awaiting_stock and not outcome.delivered
    assert outcome.order is not None and outcome.order.status is OrderStatus.AWAITING_STOCK
    kinds = sorted(i.kind for i in await claim_outbox(uow(), now=clock.now()))
    assert kinds == ["admin_alert", "awaiting_stock", "low_stock", "order_expired"]
    assert other != late


async def test_a_waiting_order_is_refunded_once_through_telegram(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    late = await _reserve(uow, clock, user_id=1)
    clock.advance(minutes=20)
    await expire_reservations(uow(), now=clock.now())
    await _reserve(uow, clock, user_id=2)
    await _pay(uow, clock, late, "charge-late")
    refunder = FakeRefunder()
    refunded = await refund_order(
        uow, user_id=1, order_id=late, now=clock.now(), refunder=refunder, rules=RULES_REFUND
    )
    assert refunded.order is not None and refunded.order.status is OrderStatus.REFUNDED
    with pytest.raises(RefundNotAllowed):
        await refund_order(
            uow, user_id=1, order_id=late, now=clock.now(), refunder=refunder, rules=RULES_REFUND
        )
    assert refunder.refunded == [(1, "charge-late")]


async def test_a_refused_refund_leaves_the_order_waiting(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    late = await _reserve(uow, clock, user_id=1)
    clock.advance(minutes=20)
    await expire_reservations(uow(), now=clock.now())
    await _reserve(uow, clock, user_id=2)
    await _pay(uow, clock, late, "charge-late")

    with pytest.raises(RefundFailed):
        await refund_order(
            uow,
            user_id=1,
            order_id=late,
            now=clock.now(),
            refunder=FakeRefunder("refuse"),
            rules=RULES_REFUND,
        )
    async with uow() as tx:
        order = await tx.orders.get(late)
    assert order is not None and order.status is OrderStatus.AWAITING_STOCK


async def test_new_stock_delivers_orders_that_were_waiting_for_it(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    late = await _reserve(uow, clock, user_id=1)
    clock.advance(minutes=20)
    await expire_reservations(uow(), now=clock.now())
    await _reserve(uow, clock, user_id=2)
    await _pay(uow, clock, late, "charge-late")
    summary = await import_card_keys(
        uow,
        sku="STEAM-50",
        parsed=key_file("FRESH-1"),
        source="t",
        cipher=cipher,
        now=clock.now(),
    )
    assert summary.fulfilled_orders == (late,)
    keys = await reveal_keys(uow(), user_id=1, order_id=late, cipher=cipher, now=clock.now())
    assert keys.keys == ["FRESH-1"]


async def test_wallet_pays_only_when_it_covers_the_total_and_the_ledger_balances(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    order_id = await _reserve(uow, clock)
    with pytest.raises(InsufficientBalance):
        await pay_with_wallet(uow(), user_id=1, order_id=order_id, now=clock.now(), rules=RULES)
    await credit_wallet(
        uow(),
        user_id=1,
        amount_minor=5000,
        reason="bank transfer",
        idempotency_key="tx-1",
        now=clock.now(),
    )
    _, again = await credit_wallet(
        uow(),
        user_id=1,
        amount_minor=5000,
        reason="bank transfer",
        idempotency_key="tx-1",
        now=clock.now(),
    )
    assert again is False
    outcome = await pay_with_wallet(
        uow(), user_id=1, order_id=order_id, now=clock.now(), rules=RULES
    )
    assert outcome.order is not None and outcome.order.payment_method is PaymentMethod.WALLET
    with pytest.raises(OrderNotPayable):
        await pay_with_wallet(uow(), user_id=1, order_id=order_id, now=clock.now(), rules=RULES)
    wallet = await show_wallet(uow(), user_id=1)
    assert wallet.balance_minor == 200
    async with uow() as tx:
        in_wallets = (
            await tx.connection.execute(
                select(func.sum(ledger_entries.c.amount_minor)).where(
                    ledger_entries.c.user_id.is_not(None)
                )
            )
        ).scalar_one()
        total = (
            await tx.connection.execute(select(func.sum(ledger_entries.c.amount_minor)))
        ).scalar_one()
    assert (in_wallets, total) == (200, 0)


async def test_two_wallet_payments_racing_cannot_overdraw(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=3)
    await stocked_shop(uow, cipher, clock, sku="STEAM-100", stock=3)
    first = await _reserve(uow, clock)
    second = (
        await reserve_keys(
            uow(),
            user_id=1,
            first_name="",
            sku="STEAM-100",
            quantity=1,
            now=clock.now(),
            rules=RULES,
        )
    ).order.id
    await credit_wallet(
        uow(),
        user_id=1,
        amount_minor=4800,
        reason="one order's worth",
        idempotency_key="k",
        now=clock.now(),
    )
    results = await asyncio.gather(
        pay_with_wallet(uow(), user_id=1, order_id=first, now=clock.now(), rules=RULES),
        pay_with_wallet(uow(), user_id=1, order_id=second, now=clock.now(), rules=RULES),
        return_exceptions=True,
    )
    assert sum(isinstance(r, InsufficientBalance) for r in results) == 1
    assert (await show_wallet(uow(), user_id=1)).balance_minor == 0


async def test_a_topup_credits_the_wallet_once_at_the_star_rate(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    for _ in range(2):
        await confirm_payment(
            uow,
            user_id=7,
            payload="topup:7:100",
            currency="XTR",
            amount=100,
            charge_id="top-1",
            now=clock.now(),
            rules=RULES,
            topup=TOPUP,
            refunder=FakeRefunder(),
        )
    assert (await show_wallet(uow(), user_id=7)).balance_minor == 1000


async def test_keys_are_shown_only_to_their_buyer(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=1)
    order_id = await _reserve(uow, clock)
    await _pay(uow, clock, order_id, "c")
    with pytest.raises(NotYourOrder):
        await reveal_keys(uow(), user_id=2, order_id=order_id, cipher=cipher, now=clock.now())


async def _charge(
    uow: UnitOfWorkFactory,
    clock: FakeClock,
    refunder: FakeRefunder,
    *,
    payload: str,
    amount: int,
    user_id: int = 1,
    currency: str = "XTR",
    charge: str = "odd-charge",
) -> PaymentOutcome:
    return await confirm_payment(
        uow,
        user_id=user_id,
        payload=payload,
        currency=currency,
        amount=amount,
        charge_id=charge,
        now=clock.now(),
        rules=RULES,
        topup=TOPUP,
        refunder=refunder,
    )


async def _alerts(uow: UnitOfWorkFactory, clock: FakeClock) -> list[str]:
    claimed = await claim_outbox(uow(), now=clock.now())
    return [i.payload.text for i in claimed if isinstance(i.payload, AdminAlert)]


@pytest.mark.parametrize(
    ("payload", "amount", "currency", "payer", "refusal"),
    [
        ("order:{order}", 1, "XTR", 1, "mismatch"),  # 1 Star for a 480-Star order
        ("order:{order}", 480, "USD", 1, "mismatch"),
        ("order:{order}", 480, "XTR", 2, "not_yours"),
        ("order:999999", 480, "XTR", 1, "not_found"),  # no such order: no foreign-key failure
        ("garbage", 480, "XTR", 1, "unknown_payload"),  # never credited as a top-up
        ("topup:2:50", 50, "XTR", 1, "not_yours"),  # a top-up of someone else's wallet
        ("topup:1:50", 5, "XTR", 1, "mismatch"),
        ("order:١", 480, "XTR", 1, "unknown_payload"),  # an Arabic-Indic digit is not a digit
    ],
    ids=[
        "amount",
        "currency",
        "payer",
        "missing",
        "garbage",
        "topup-other",
        "topup-amount",
        "digit",
    ],
)
async def test_a_charge_that_does_not_match_is_recorded_refunded_and_alerted_never_applied(
    uow: UnitOfWorkFactory,
    cipher: CardKeyCipher,
    clock: FakeClock,
    payload: str,
    amount: int,
    currency: str,
    payer: int,
    refusal: str,
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await _reserve(uow, clock)
    refunder = FakeRefunder()
    outcome = await _charge(
        uow,
        clock,
        refunder,
        payload=payload.format(order=order_id),
        amount=amount,
        currency=currency,
        user_id=payer,
    )
    assert outcome.refused == refusal and not outcome.delivered and outcome.topup_minor == 0
    assert refunder.refunded == [(payer, "odd-charge")]
    [alert] = await _alerts(uow, clock)
    assert refusal in alert and "refunded" in alert
    async with uow() as tx:
        order = await tx.orders.get(order_id)
        recorded = await tx.payments.get("odd-charge")
        assert await tx.ledger.balance(payer) == 0
    assert order is not None and order.status is OrderStatus.AWAITING_PAYMENT
    assert recorded is not None and recorded.refunded_at is not None
    assert (await read_books(uow)).breaches() == {}


async def test_a_second_charge_of_a_paid_order_is_refunded_and_the_admins_told(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    order_id = await _reserve(uow, clock)
    refunder = FakeRefunder()
    payload = f"order:{order_id}"
    first = await _charge(uow, clock, refunder, payload=payload, amount=480, charge="a")
    second = await _charge(uow, clock, refunder, payload=payload, amount=480, charge="b")
    assert first.delivered and second.refused == "already_paid"
    assert refunder.refunded == [(1, "b")]
    assert any("already_paid" in alert for alert in await _alerts(uow, clock))
    async with uow() as tx:
        assert await tx.payments.charge_for_order(order_id) == "a"
        assert await tx.card_keys.count_available("STEAM-50") == 1  # one key sold, not two


async def test_a_charge_refund_that_cannot_reach_telegram_waits_and_is_resumed_once(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await stocked_shop(uow, cipher, clock, stock=2)
    offline = FakeRefunder("unreachable")
    outcome = await _charge(uow, clock, offline, payload="garbage", amount=10)
    assert outcome.refund is RefundStatus.PENDING
    assert (await read_books(uow)).refunds_stuck == ["odd-charge"]
    online = FakeRefunder()
    clock.advance(minutes=1)  # past the claim lease of the attempt that failed
    assert await resume_refunds(uow, online, now=clock.now()) == 1
    assert await resume_refunds(uow, online, now=clock.now()) == 0
    assert online.refunded == [(1, "odd-charge")]
    assert (await read_books(uow)).breaches() == {}
