"""The SQL unit of work: it rolls back unless committed, and a read-only one cannot write."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import insert, select

from store.adapters.tables import users
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.errors import ReadOnlyError
from store.services.ports import UnitOfWork
from tests.conftest import FakeClock


async def _user_ids(uow: UnitOfWorkFactory) -> list[int]:
    async with uow().reading() as tx:
        return list((await tx.connection.execute(select(users.c.id))).scalars())


def test_the_sql_unit_of_work_is_the_unit_of_work_services_take(uow: UnitOfWorkFactory) -> None:
    taken: UnitOfWork = uow()  # mypy checks the protocol; the rest checks it at run time
    assert callable(taken.reading)


async def test_rolls_back_uncommitted_work_by_default(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow() as tx:
        await tx.users.ensure(1, "Li", clock.now())
    assert await _user_ids(uow) == []


async def test_keeps_committed_work(uow: UnitOfWorkFactory, clock: FakeClock) -> None:
    async with uow() as tx:
        await tx.users.ensure(1, "Li", clock.now())
        await tx.commit()
    assert await _user_ids(uow) == [1]


async def test_a_read_only_unit_of_work_refuses_to_commit(uow: UnitOfWorkFactory) -> None:
    with pytest.raises(ReadOnlyError):
        async with uow().reading() as tx:
            await tx.users.get(1)
            await tx.commit()


async def test_a_write_inside_a_read_only_unit_of_work_fails_and_changes_nothing(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    with pytest.raises(ReadOnlyError):
        async with uow().reading() as tx:
            await tx.users.ensure(1, "Li", clock.now())
    with pytest.raises(ReadOnlyError):  # a statement the repositories do not know, too
        async with uow().reading() as tx:
            await tx.connection.execute(
                insert(users).values(id=2, first_name="", created_at=clock.now())
            )
    assert await _user_ids(uow) == []


async def test_a_connection_that_served_a_reader_writes_again(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    for user_id in (1, 2, 3):  # each pass hands the same pooled connection from reader to writer
        async with uow().reading() as tx:
            await tx.users.get(user_id)
        async with uow() as tx:
            await tx.users.ensure(user_id, "", clock.now())
            await tx.commit()
    assert await _user_ids(uow) == [1, 2, 3]


async def test_reading_opens_only_the_next_transaction_read_only(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    work = uow()
    async with work.reading():
        assert await work.users.get(1) is None
    async with work:
        await work.users.ensure(1, "", clock.now())
        await work.commit()
    assert await _user_ids(uow) == [1]


async def test_a_reader_does_not_wait_for_a_writer(
    uow: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow() as writer:  # holds the write lock (SQLite: BEGIN IMMEDIATE) until it ends
        await writer.users.ensure(1, "", clock.now())

        async def read() -> list[int]:
            return await _user_ids(uow)

        assert await asyncio.wait_for(read(), timeout=5) == []  # not yet committed, not blocked
        await writer.commit()
