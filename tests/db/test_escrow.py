"""Escrow (担保) and who pays for a bad key, on SQLite and PostgreSQL: each sold key's supplier
cost waits until the after-sales window ends; a refund cancels it; a confirmed bad key is
charged to its supplier; and the books balance after each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import create_engine
from store.adapters.tables import escrow_holds
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.case import ReplacementRules
from store.domain.ledger import MARGIN, RECOVERIES, UNEARNED, EscrowRules, deposit, escrow, payable
from store.domain.model import CaseReason, CaseStatus, Order
from store.domain.order import HoldRules
from store.domain.support import SupportRules
from store.services.agent_duty import set_duty
from store.services.books import check_books, settle_escrow
from store.services.case import decide_case, report_bad_key
from store.services.catalog import load_catalog
from store.services.order import reserve_keys
from store.services.payment import pay_with_wallet
from store.services.refund import refund_order
from store.services.reveal import reveal_keys
from store.services.stock import import_card_keys
from store.services.supplier import add_supplier
from store.services.supplier_money import (
    MoneyRefused,
    pay_deposit,
    record_payout,
    supplier_statement,
    withdraw_deposit,
)
from store.services.wallet import credit_wallet
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, catalog, key_file, keys, product

PRICE = 4800
RULES = HoldRules()
ESCROW = EscrowRules(refund_window_days=7, margin_days=2)
BUYER = 1001
AGENT = 2001


async def _shop(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, stock: dict[str, int]
) -> None:
    """One product (¥48.00); `stock` keys from each supplier, imported in this order, at a
    cost of ¥40.00 for acme and ¥42.00 for bravo."""
    await load_catalog(uow(), spec=catalog(product()), star_value_minor=10, default_order_limit=10)
    costs = {"acme": 4000, "bravo": 4200}
    for supplier_id, count in stock.items():
        await add_supplier(
            uow,
            id=supplier_id,
            name=supplier_id.title(),
            public_name=None,
            contact="",
            public_key=None,
            actor="test",
            now=clock.now(),
        )
        await import_card_keys(
            uow,
            sku="STEAM-50",
            parsed=key_file(*keys(supplier_id, count)),
            source="test",
            cipher=cipher,
            now=clock.now(),
            supplier_id=supplier_id,
            cost_minor=costs[supplier_id],
        )
        clock.advance(seconds=1)


async def _buy(uow: UnitOfWorkFactory, clock: FakeClock, quantity: int = 1) -> Order:
    await credit_wallet(
        uow(),
        user_id=BUYER,
        amount_minor=PRICE * quantity,
        reason="cash",
        idempotency_key=f"cash-{clock.now().isoformat()}",
        now=clock.now(),
    )
    reservation = await reserve_keys(
        uow(),
        user_id=BUYER,
        first_name="Li",
        sku="STEAM-50",
        quantity=quantity,
        now=clock.now(),
        rules=RULES,
    )
    paid = await pay_with_wallet(
        uow(), user_id=BUYER, order_id=reservation.order.id, now=clock.now(), rules=RULES
    )
    assert paid.order is not None
    return paid.order


async def _balance(uow: UnitOfWorkFactory, account: str) -> int:
    async with uow().reading() as tx:
        return await tx.ledger.account_balance(account)


async def _reported(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, order: Order, automatic: bool
) -> int:
    """The buyer sees the order's key and reports it; the case's id."""
    await reveal_keys(uow(), user_id=BUYER, order_id=order.id, cipher=cipher, now=clock.now())
    async with uow().reading() as tx:
        [(key_id, _)] = await tx.card_keys.sold_keys(order.id)
    outcome = await report_bad_key(
        uow(),
        user_id=BUYER,
        first_name="Li",
        order_id=order.id,
        key_id=key_id,
        reason=CaseReason.INVALID,
        screenshot=None,
        now=clock.now(),
        rules=ReplacementRules(enabled=automatic),
        cipher=cipher,
    )
    return outcome.case.id


async def test_a_sale_holds_the_suppliers_cost_in_escrow_and_the_rest_waits_unearned(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await _shop(uow, cipher, clock, {"acme": 2, "bravo": 2})
    await _buy(uow, clock, quantity=3)  # oldest batch first: two of acme's, one of bravo's
    assert await _balance(uow, escrow("acme")) == 2 * 4000
    assert await _balance(uow, escrow("bravo")) == 4200
    assert await _balance(uow, UNEARNED) == 3 * PRICE - 8000 - 4200
    assert await check_books(uow()) == []


async def test_escrow_settles_once_after_the_window_even_across_a_restart(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock, engine: AsyncEngine
) -> None:
    await _shop(uow, cipher, clock, {"acme": 2})
    await _buy(uow, clock, quantity=2)
    assert await settle_escrow(uow, now=clock.now() + timedelta(days=8), rules=ESCROW) == 0
    after_window = clock.now() + timedelta(days=9, seconds=1)
    assert await settle_escrow(uow, now=after_window, rules=ESCROW) == 2
    assert await settle_escrow(uow, now=after_window, rules=ESCROW) == 0
    restarted = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        again = UnitOfWorkFactory(restarted)
        assert await settle_escrow(again, now=after_window, rules=ESCROW) == 0
        assert await _balance(again, payable("acme")) == 2 * 4000
        assert await _balance(again, escrow("acme")) == 0
        assert await _balance(again, MARGIN) == 2 * (PRICE - 4000)
        assert await _balance(again, UNEARNED) == 0
        assert await check_books(again()) == []
    finally:
        await restarted.dispose()


async def test_a_refund_within_the_window_cancels_the_escrow_instead(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await _shop(uow, cipher, clock, {"acme": 1})
    order = await _buy(uow, clock)
    await refund_order(
        uow, user_id=BUYER, order_id=order.id, now=clock.now(), refunder=FakeRefunder(), rules=None
    )
    assert await _balance(uow, escrow("acme")) == 0
    assert await settle_escrow(uow, now=clock.now() + timedelta(days=30), rules=ESCROW) == 0
    assert await _balance(uow, payable("acme")) == 0
    async with uow().reading() as tx:
        statuses = (await tx.connection.execute(select(escrow_holds.c.status))).scalars().all()
    assert statuses == ["cancelled"]
    assert await check_books(uow()) == []


async def test_an_automatic_replacement_charges_the_bad_keys_supplier_what_the_new_key_cost(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await _shop(uow, cipher, clock, {"acme": 1, "bravo": 1})
    await pay_deposit(
        uow,
        supplier_id="acme",
        amount_minor=10_000,
        reason="quality deposit",
        idempotency_key="d1",
        actor="test",
        now=clock.now(),
    )
    order = await _buy(uow, clock)  # acme's key, the oldest
    await _reported(uow, cipher, clock, order, automatic=True)  # replaced by bravo's
    assert await _balance(uow, escrow("acme")) == 0  # forfeited: acme is not paid for it
    assert await _balance(uow, escrow("bravo")) == 4200  # bravo's key is sold and held
    # the replacement cost ¥42.00: ¥40.00 of it acme's forfeited escrow, ¥2.00 its deposit
    assert await _balance(uow, deposit("acme")) == 10_000 - 200
    assert await _balance(uow, RECOVERIES) == 200
    statement = await supplier_statement(uow, supplier_id="acme", since=None)
    assert [(line.kind, line.amount_minor) for line in statement.lines] == [
        ("deposit", 10_000),
        ("held", 4000),
        ("charged", -4000),
        ("charged", -200),
    ]
    assert await check_books(uow()) == []


async def test_a_bad_key_an_agent_refunds_is_charged_to_its_supplier_never_to_the_buyer(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await _shop(uow, cipher, clock, {"acme": 2})
    order = await _buy(uow, clock)
    await set_duty(
        uow(), agent_id=AGENT, display_name="Ann", on=True, now=clock.now(), rules=SupportRules()
    )
    case_id = await _reported(uow, cipher, clock, order, automatic=False)
    decided = await decide_case(
        uow,
        agent_id=AGENT,
        case_id=case_id,
        decision=CaseStatus.REFUNDED,
        note="confirmed with the issuer",
        now=clock.now(),
        refunder=FakeRefunder(),
        cipher=cipher,
    )
    assert decided.status is CaseStatus.REFUNDED
    async with uow().reading() as tx:
        assert await tx.ledger.balance(BUYER) == PRICE  # made whole, in the wallet
    # acme pays the whole refund: its ¥40.00 in escrow, the other ¥8.00 from its deposit
    assert await _balance(uow, escrow("acme")) == 0
    assert await _balance(uow, deposit("acme")) == -(PRICE - 4000)
    assert await check_books(uow()) == []


async def test_a_deposit_is_written_once_per_key_and_a_withdrawal_takes_no_more_than_it_holds(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await _shop(uow, cipher, clock, {"acme": 1})
    for _ in range(2):
        moved = await pay_deposit(
            uow,
            supplier_id="acme",
            amount_minor=5000,
            reason="deposit",
            idempotency_key="bank-1",
            actor="test",
            now=clock.now(),
        )
    assert moved.written is False and moved.money.deposit_minor == 5000
    with pytest.raises(MoneyRefused):
        await withdraw_deposit(
            uow,
            supplier_id="acme",
            amount_minor=5001,
            reason="too much",
            idempotency_key="w1",
            actor="test",
            now=clock.now(),
        )
    with pytest.raises(MoneyRefused):
        await record_payout(
            uow, supplier_id="acme", amount_minor=1, reference="tx-1", actor="test", now=clock.now()
        )
    with pytest.raises(MoneyRefused):
        await pay_deposit(
            uow,
            supplier_id="nobody",
            amount_minor=1,
            reason="x",
            idempotency_key="k",
            actor="test",
            now=clock.now(),
        )
    assert await _balance(uow, deposit("acme")) == 5000
    assert await check_books(uow()) == []


async def test_a_payout_comes_from_what_settled_and_the_statement_shows_every_step(
    uow: UnitOfWorkFactory, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    await _shop(uow, cipher, clock, {"acme": 1})
    order = await _buy(uow, clock)
    await settle_escrow(uow, now=clock.now() + timedelta(days=10), rules=ESCROW)
    await record_payout(
        uow, supplier_id="acme", amount_minor=4000, reference="tx-9", actor="test", now=clock.now()
    )
    statement = await supplier_statement(uow, supplier_id="acme", since=None)
    assert [(line.kind, line.account, line.amount_minor) for line in statement.lines] == [
        ("held", "escrow", 4000),
        ("released", "escrow", -4000),
        ("released", "payable", 4000),
        ("paid out", "payable", -4000),
    ]
    assert statement.lines[0].order_reference == order.reference
    assert statement.money.paid_out_minor == 4000 and statement.money.payable_minor == 0
    assert await check_books(uow()) == []
