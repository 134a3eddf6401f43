"""The unit of work: one transaction and the repositories on it; rolls back unless committed."""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.adapters.database import is_transient
from store.adapters.repositories.agent import SqlAgentRepository
from store.adapters.repositories.card_key import SqlCardKeyRepository
from store.adapters.repositories.case import SqlCaseRepository
from store.adapters.repositories.catalog import SqlCatalogRepository
from store.adapters.repositories.checkpoint import SqlCheckpointRepository
from store.adapters.repositories.conversation_state import SqlConversationStateRepository
from store.adapters.repositories.inbox import SqlInboxRepository
from store.adapters.repositories.ledger import SqlLedgerRepository
from store.adapters.repositories.order import SqlOrderRepository
from store.adapters.repositories.outbox import SqlOutboxRepository
from store.adapters.repositories.payment import SqlPaymentRepository
from store.adapters.repositories.question import SqlQuestionRepository
from store.adapters.repositories.refund import SqlRefundRepository
from store.adapters.repositories.ticket import SqlTicketRepository
from store.adapters.repositories.user import SqlUserRepository
from store.domain.errors import DuplicateRecord, StoreBusy


class UnitOfWork(Protocol):
    catalog: SqlCatalogRepository
    card_keys: SqlCardKeyRepository
    orders: SqlOrderRepository
    payments: SqlPaymentRepository
    ledger: SqlLedgerRepository
    outbox: SqlOutboxRepository
    users: SqlUserRepository
    tickets: SqlTicketRepository
    agents: SqlAgentRepository
    cases: SqlCaseRepository
    questions: SqlQuestionRepository
    states: SqlConversationStateRepository
    refunds: SqlRefundRepository
    inbox: SqlInboxRepository
    checkpoints: SqlCheckpointRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


_sqlite_writers: weakref.WeakKeyDictionary[object, asyncio.Lock] = weakref.WeakKeyDictionary()


def _sqlite_write_lock(engine: AsyncEngine) -> asyncio.Lock | None:
    """One FIFO lock per SQLite engine, taken before a writer checks out a connection.

    SQLite admits one writer at a time. Left to BEGIN IMMEDIATE alone, waiting writers hold
    pool connections while they retry with back-off sleeps, so under load the pool runs dry and
    the unlucky wait for seconds. Queueing them here first is fair and holds no connection.
    (Other processes, such as the admin CLI, are still serialised by BEGIN IMMEDIATE.)
    """
    if engine.dialect.name != "sqlite":
        return None
    lock = _sqlite_writers.get(engine.sync_engine)
    if lock is None:
        lock = _sqlite_writers[engine.sync_engine] = asyncio.Lock()
    return lock


class SqlUnitOfWork:
    """`async with uow:` opens a transaction; `await uow.commit()` ends it, else it rolls back.

    A read-only unit of work on SQLite begins a deferred transaction, so browsing never waits
    for the write lock that reservations take. A database that is busy or briefly unreachable
    surfaces as `StoreBusy` (nothing was changed; the caller may retry), never as a driver error.
    """

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: AsyncConnection | None = None
        self._write_lock = None if read_only else _sqlite_write_lock(engine)

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._connection

    async def __aenter__(self) -> Self:
        if self._write_lock is not None:
            await self._write_lock.acquire()
        try:
            return await self._begin()
        except BaseException as error:
            if self._write_lock is not None:
                self._write_lock.release()
            if isinstance(error, Exception) and is_transient(error):
                raise StoreBusy(type(error).__name__) from error
            raise

    async def _begin(self) -> Self:
        connection = await self._engine.connect()
        try:
            if self._read_only:
                connection = await connection.execution_options(kamibot_read_only=True)
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        dialect = self._engine.dialect.name
        self.catalog = SqlCatalogRepository(connection)
        self.card_keys = SqlCardKeyRepository(connection, dialect)
        self.orders = SqlOrderRepository(connection)
        self.payments = SqlPaymentRepository(connection, dialect)
        self.ledger = SqlLedgerRepository(connection, dialect)
        self.outbox = SqlOutboxRepository(connection, dialect)
        self.users = SqlUserRepository(connection, dialect)
        self.tickets = SqlTicketRepository(connection, dialect)
        self.agents = SqlAgentRepository(connection, dialect)
        self.cases = SqlCaseRepository(connection)
        self.questions = SqlQuestionRepository(connection)
        self.states = SqlConversationStateRepository(connection, dialect)
        self.refunds = SqlRefundRepository(connection, dialect)
        self.inbox = SqlInboxRepository(connection, dialect)
        self.checkpoints = SqlCheckpointRepository(connection, dialect)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        try:
            if connection.in_transaction():
                await connection.rollback()
        except Exception as error:
            if exc is None and not is_transient(error):
                raise
            # the work already failed (or the connection is gone); that failure is what matters
        finally:
            await connection.close()
            self._connection = None
            if self._write_lock is not None:
                self._write_lock.release()
        if isinstance(exc, IntegrityError):
            raise DuplicateRecord(type(exc.orig).__name__) from exc
        if isinstance(exc, Exception) and not isinstance(exc, StoreBusy) and is_transient(exc):
            raise StoreBusy(type(exc).__name__) from exc

    async def commit(self) -> None:
        await self.connection.commit()

    async def rollback(self) -> None:
        await self.connection.rollback()


class UnitOfWorkFactory:
    """Hands out units of work on one engine; services and handlers receive this."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)
