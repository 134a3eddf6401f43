"""The wallet: a balance that is the sum of its entries, and admins' credits, on fakes."""

from __future__ import annotations

import pytest

from store.domain.model import LedgerReason
from store.services.wallet import CreditRefused, credit_wallet, show_wallet
from tests.conftest import FakeClock
from tests.fakes import FakeDatabase, FakeUnitOfWork

BUYER = 1001


async def credit(
    db: FakeDatabase, clock: FakeClock, amount: int, key: str, reason: str = "cash at the desk"
) -> bool:
    _, written = await credit_wallet(
        FakeUnitOfWork(db),
        user_id=BUYER,
        amount_minor=amount,
        reason=reason,
        idempotency_key=key,
        now=clock.now(),
    )
    return written


async def test_a_credit_is_written_once_per_idempotency_key(clock: FakeClock) -> None:
    db = FakeDatabase()
    assert await credit(db, clock, 1000, "k1")
    assert not await credit(db, clock, 1000, "k1")
    wallet = await show_wallet(FakeUnitOfWork(db), user_id=BUYER)
    assert wallet.balance_minor == 1000
    [entry] = wallet.recent
    assert (entry.reason, entry.note) == (LedgerReason.ADMIN_CREDIT, "cash at the desk")


async def test_a_correction_may_not_take_the_balance_below_zero(clock: FakeClock) -> None:
    db = FakeDatabase()
    await credit(db, clock, 1000, "k1")
    with pytest.raises(CreditRefused):
        await credit(db, clock, -1001, "k2")
    assert await credit(db, clock, -1000, "k3")
    assert (await show_wallet(FakeUnitOfWork(db), user_id=BUYER)).balance_minor == 0


@pytest.mark.parametrize(("amount", "reason", "key"), [(0, "x", "k"), (5, " ", "k"), (5, "x", "")])
async def test_a_credit_needs_an_amount_a_reason_and_a_key(
    clock: FakeClock, amount: int, reason: str, key: str
) -> None:
    db = FakeDatabase()
    with pytest.raises(CreditRefused):
        await credit(db, clock, amount, key, reason)
    assert db.tables.ledger == {}


async def test_showing_the_wallet_only_reads_and_lists_the_newest_entries_first(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    for n in range(1, 8):
        await credit(db, clock, n, f"k{n}")
    uow = FakeUnitOfWork(db)
    wallet = await show_wallet(uow, user_id=BUYER, recent=3)
    assert wallet.balance_minor == 28 and [e.amount_minor for e in wallet.recent] == [7, 6, 5]
    assert uow.opened == ["read"]
