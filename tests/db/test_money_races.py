"""Every pair of money transitions on one order, raced 20 times on SQLite and on PostgreSQL.

SQLite's BEGIN IMMEDIATE runs one writer at a time, so a check-then-update looks safe there;
under PostgreSQL's READ COMMITTED two transactions pass the same check. Each race runs the two
transitions on separate connections at once; whichever wins, the books must balance.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable

import pytest

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import KeysNotAvailable, OrderNotPayable, RefundNotAllowed
from store.domain.model import OrderStatus, PaymentOutcome
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.services.order import cancel_order, expire_reservations, reserve_keys
from store.services.payment import confirm_payment, pay_with_wallet
from store.services.refund import refund_order
from store.services.reveal import reveal_keys
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, stocked_shop
from tests.invariants import read_books

TRIALS = 20
HOLD = HoldRules(minutes=15, max_open=TRIALS * 2)
TOPUP = TopupRules(star_value_minor=10, allowed_stars=(50,))
_charges = itertools.count(1)


async def _both(first: Awaitable[object], second: Awaitable[object]) -> list[object]:
    return list(await asyncio.gather(first, second, return_exceptions=True))


async def _order(uow: UnitOfWorkFactory, clock: FakeClock, buyer: int) -> int:
    reservation = await reserve_keys(
        uow(), user_id=buyer, first_name="", sku="RACE", quantity=1, now=clock.now(), rules=HOLD
    )
    return reservation.order.id


def _stars(
    uow: UnitOfWorkFactory, clock: FakeClock, refunder: FakeRefunder, buyer: int, order_id: int
) -> Awaitable[PaymentOutcome]:
    return confirm_payment(
        uow,
        user_id=buyer,
        payload=f"order:{order_id}",
        currency="XTR",
        amount=480,
        charge_id=f"race-{next(_charges)}",
        now=clock.now(),
        rules=HOLD,
        topup=TOPUP,
        refunder=refunder,
    )


async def _status(uow: UnitOfWorkFactory, order_id: int) -> OrderStatus:
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None
    return order.status


async def _balance_books(uow: UnitOfWorkFactory) -> None:
    assert (await read_books(uow)).breaches() == {}


@pytest.fixture
async def race_shop(uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock) -> None:
    await stocked_shop(uow, cipher, clock, sku="RACE", stock=TRIALS * 3)


async def test_stars_and_wallet_paying_one_order_at_once_take_the_money_once(
    uow: UnitOfWorkFactory, clock: FakeClock, race_shop: None
) -> None:
    refunder = FakeRefunder()
    for trial in range(TRIALS):
        buyer = 100 + trial
        await credit_wallet(
            uow(),
            user_id=buyer,
            amount_minor=4800,
            reason="race",
            idempotency_key=f"race-{buyer}",
            now=clock.now(),
        )
        order_id = await _order(uow, clock, buyer)
        stars, wallet = await _both(
            _stars(uow, clock, refunder, buyer, order_id),
            pay_with_wallet(uow(), user_id=buyer, order_id=order_id, now=clock.now(), rules=HOLD),
        )
        assert isinstance(stars, PaymentOutcome)
        if isinstance(wallet, OrderNotPayable):  # Stars won: the wallet was never debited
            assert stars.delivered
        else:  # the wallet won: the Stars charge went straight back
            assert isinstance(wallet, PaymentOutcome) and wallet.delivered
            assert stars.refused == "already_paid"
        assert await _status(uow, order_id) is OrderStatus.PAID
    stars_won = TRIALS - len(refunder.refunded)
    async with uow().reading() as tx:
        balances = [await tx.ledger.balance(100 + trial) for trial in range(TRIALS)]
    debited = balances.count(0)
    assert debited + stars_won == TRIALS  # every order paid exactly once
    await _balance_books(uow)


async def test_two_stars_charges_of_one_order_apply_one_and_refund_the_other(
    uow: UnitOfWorkFactory, clock: FakeClock, race_shop: None
) -> None:
    refunder = FakeRefunder()
    for trial in range(TRIALS):
        buyer = 200 + trial
        order_id = await _order(uow, clock, buyer)
        first, second = await _both(
            _stars(uow, clock, refunder, buyer, order_id),
            _stars(uow, clock, refunder, buyer, order_id),
        )
        outcomes = [o for o in (first, second) if isinstance(o, PaymentOutcome)]
        assert len(outcomes) == 2, (first, second)
        assert sorted(bool(o.delivered) for o in outcomes) == [False, True]
    assert len(refunder.refunded) == TRIALS  # one refund per order, never two
    await _balance_books(uow)


async def test_a_payment_racing_a_cancel_never_leaves_a_paid_order_without_keys(
    uow: UnitOfWorkFactory, clock: FakeClock, race_shop: None
) -> None:
    refunder = FakeRefunder()
    for trial in range(TRIALS):
        buyer = 300 + trial
        order_id = await _order(uow, clock, buyer)
        paid, cancelled = await _both(
            _stars(uow, clock, refunder, buyer, order_id),
            cancel_order(uow(), user_id=buyer, order_id=order_id, now=clock.now()),
        )
        assert isinstance(paid, PaymentOutcome) and not isinstance(cancelled, Exception)
        # cancelled first: the payment re-held keys from stock; paid first: the cancel did nothing
        assert paid.delivered and await _status(uow, order_id) is OrderStatus.PAID
    await _balance_books(uow)


async def test_a_payment_racing_the_expiry_job_never_leaves_a_paid_order_without_keys(
    uow: UnitOfWorkFactory, clock: FakeClock, race_shop: None
) -> None:
    refunder = FakeRefunder()
    for trial in range(TRIALS):
        buyer = 400 + trial
        order_id = await _order(uow, clock, buyer)
        clock.advance(minutes=16)  # the hold has lapsed: both may act
        paid, expired = await _both(
            _stars(uow, clock, refunder, buyer, order_id),
            expire_reservations(uow(), now=clock.now()),
        )
        assert isinstance(paid, PaymentOutcome) and not isinstance(expired, Exception)
        assert paid.delivered and await _status(uow, order_id) is OrderStatus.PAID
    await _balance_books(uow)


async def test_a_refund_racing_a_reveal_either_refunds_unseen_keys_or_shows_them_never_both(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, race_shop: None
) -> None:
    refunder = FakeRefunder()
    outcomes: set[str] = set()
    for trial in range(TRIALS):
        buyer = 500 + trial
        order_id = await _order(uow, clock, buyer)
        await _stars(uow, clock, refunder, buyer, order_id)
        refunded, revealed = await _both(
            refund_order(
                uow,
                user_id=buyer,
                order_id=order_id,
                now=clock.now(),
                refunder=refunder,
                rules=RefundRules(),
            ),
            reveal_keys(uow(), user_id=buyer, order_id=order_id, cipher=cipher, now=clock.now()),
        )
        status = await _status(uow, order_id)
        if isinstance(refunded, RefundNotAllowed):  # the reveal came first
            assert status is OrderStatus.PAID and not isinstance(revealed, Exception)
            outcomes.add("revealed")
        else:  # the refund came first: nothing was shown, the key is back on sale
            assert isinstance(revealed, KeysNotAvailable), revealed
            assert status is OrderStatus.REFUNDED
            outcomes.add("refunded")
    assert outcomes  # at least one way happened; either is correct
    await _balance_books(uow)
