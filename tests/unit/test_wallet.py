"""The wallet: a balance that is the sum of its entries, and admins' credits, on fakes."""

from __future__ import annotations

import pytest

from store.domain.model import Language, LedgerReason
from store.domain.outbox import WalletCredited
from store.services.outbox import claim_outbox
from store.services.user import meet_user
from store.services.wallet import CreditRefused, credit_wallet, knows_user, show_wallet
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


async def test_a_credit_is_announced_only_to_someone_who_has_used_the_bot(
    clock: FakeClock,
) -> None:
    db = FakeDatabase()
    assert not await knows_user(FakeUnitOfWork(db), user_id=BUYER)
    await credit_wallet(
        FakeUnitOfWork(db),
        user_id=BUYER,
        amount_minor=500,
        reason="bank",
        idempotency_key="k1",
        now=clock.now(),
        tell_buyer=True,
    )
    assert await claim_outbox(FakeUnitOfWork(db), now=clock.now()) == []
    await meet_user(
        FakeUnitOfWork(db),
        user_id=BUYER,
        first_name="Li",
        app_language=Language.EN,
        now=clock.now(),
    )
    assert await knows_user(FakeUnitOfWork(db), user_id=BUYER)
    await credit_wallet(
        FakeUnitOfWork(db),
        user_id=BUYER,
        amount_minor=700,
        reason="bank",
        idempotency_key="k2",
        now=clock.now(),
        tell_buyer=True,
    )
    [item] = await claim_outbox(FakeUnitOfWork(db), now=clock.now())
    assert (item.chat_id, item.payload) == (BUYER, WalletCredited(700, 1200))
