"""The fake unit of work keeps the contract the SQL one keeps (tests/db/test_unit_of_work.py)."""

from __future__ import annotations

import pytest

from store.domain.errors import DuplicateRecord, ReadOnlyError, UnreadableToken
from store.domain.model import LedgerReason
from store.services.ports import KeyCipher, NewUnitOfWork, UnitOfWork
from tests.conftest import FakeClock
from tests.fakes import FakeCipher, FakeDatabase, FakeUnitOfWork


def test_the_fakes_are_what_the_services_take() -> None:
    db = FakeDatabase()
    uow: UnitOfWork = FakeUnitOfWork(db)  # mypy checks the protocols
    new_uow: NewUnitOfWork = db.unit_of_work
    cipher: KeyCipher = FakeCipher()
    assert uow.reading() is uow and new_uow() is not uow and cipher.open(cipher.seal("x")) == "x"


async def test_rolls_back_uncommitted_work_by_default(clock: FakeClock) -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.users.ensure(1, "Li", clock.now())
    assert uow.database.tables.users == {} and not uow.committed


async def test_keeps_committed_work(clock: FakeClock) -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.users.ensure(1, "Li", clock.now())
        await uow.commit()
    assert list(uow.database.tables.users) == [1] and uow.committed


async def test_work_after_a_commit_is_a_new_transaction_that_rolls_back(clock: FakeClock) -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.users.ensure(1, "Li", clock.now())
        await uow.commit()
        await uow.users.ensure(2, "Wang", clock.now())
    assert list(uow.database.tables.users) == [1]


async def test_a_read_only_unit_of_work_refuses_writes_locks_and_commits(clock: FakeClock) -> None:
    uow = FakeUnitOfWork()
    async with uow.reading():
        with pytest.raises(ReadOnlyError):
            await uow.users.ensure(1, "Li", clock.now())
        with pytest.raises(ReadOnlyError):
            await uow.orders.lock(1)  # FOR UPDATE, which PostgreSQL refuses in READ ONLY
        with pytest.raises(ReadOnlyError):
            await uow.commit()
        assert await uow.users.get(1) is None
    assert uow.opened == ["read"]


async def test_reading_opens_only_the_next_transaction_read_only(clock: FakeClock) -> None:
    uow = FakeUnitOfWork()
    async with uow.reading():
        pass
    async with uow:
        await uow.users.ensure(1, "Li", clock.now())
        await uow.commit()
    assert uow.opened == ["read", "write"] and list(uow.database.tables.users) == [1]


async def test_a_row_naming_a_user_who_does_not_exist_breaks_like_a_foreign_key(
    clock: FakeClock,
) -> None:
    uow = FakeUnitOfWork()
    async with uow:
        with pytest.raises(DuplicateRecord):
            await uow.ledger.append(1, 100, LedgerReason.ADMIN_CREDIT, "k", clock.now())


def test_the_fake_cipher_opens_under_any_passphrase_and_seals_under_the_first() -> None:
    old, both, new = FakeCipher(["A"]), FakeCipher(["B", "A"]), FakeCipher(["B"])
    token = old.seal("words")
    assert both.open(token) == "words" and new.open(both.rotate(token)) == "words"
    with pytest.raises(UnreadableToken):
        new.open(token)
    assert both.fingerprints(" KEY ") == [new.fingerprint("KEY"), old.fingerprint("KEY")]
