"""A busy database is not a failure: nothing changes, and the same event succeeds when retried."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from handlers.context import ShopContext
from handlers.router import dispatch
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import create_engine
from store.adapters.migration import upgrade
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import StoreBusy
from store.domain.model import OrderStatus
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from tests.conftest import FakeClock
from tests.factories import FakeRefunder, order_id_on, paid, pre_checkout, press, stocked_shop


async def test_a_payment_meeting_a_locked_database_is_retried_not_answered_and_then_applied(
    tmp_path: Path, cipher: CardKeyCipher, clock: FakeClock
) -> None:
    path = tmp_path / "busy.sqlite3"
    engine = create_engine(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=50)
    await upgrade(engine)
    uow = UnitOfWorkFactory(engine)
    await stocked_shop(uow, cipher, clock, stock=1)
    ctx = ShopContext(
        uow=uow,
        clock=clock,
        cipher=cipher,
        refunder=FakeRefunder(),
        hold=HoldRules(),
        topup=TopupRules(star_value_minor=10, allowed_stars=(50,)),
    )
    bought = await dispatch(press("buy:STEAM-50:1"), ctx)
    order_id = await order_id_on(
        next(
            b.data
            for a in bought
            for row in getattr(a, "keyboard", None) or ()
            for b in row
            if b.data and b.data.startswith("paystars:")
        ),
        uow,
    )
    other_process = sqlite3.connect(path, isolation_level=None)  # an import, say, mid-write
    other_process.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy):
            await dispatch(paid(f"order:{order_id}", 480, charge_id="ch-busy"), ctx)
        refused = await dispatch(pre_checkout(f"order:{order_id}", 480), ctx)
        assert refused[0].ok is False and "busy" in (refused[0].error_message or "")  # type: ignore[union-attr]
    finally:
        other_process.rollback()
        other_process.close()
    async with uow().reading() as tx:  # the busy attempt changed nothing
        assert await tx.payments.get("ch-busy") is None
    await dispatch(paid(f"order:{order_id}", 480, charge_id="ch-busy"), ctx)  # the retry
    async with uow().reading() as tx:
        order = await tx.orders.get(order_id)
    assert order is not None and order.status is OrderStatus.PAID
    await engine.dispose()
