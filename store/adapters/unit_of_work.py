"""The unit of work: one transaction and the repositories on it; rolls back unless committed."""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Self, TypeGuard

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.adapters.database import is_transient
from store.adapters.repositories.agent import SqlAgentRepository
from store.adapters.repositories.card_key import SqlCardKeyRepository
from store.adapters.repositories.case import SqlCaseRepository
from store.adapters.repositories.catalog import SqlCatalogRepository
from store.adapters.repositories.checkpoint import SqlCheckpointRepository
from store.adapters.repositories.conversation_state import SqlConversationStateRepository
from store.adapters.repositories.escrow import SqlEscrowRepository
from store.adapters.repositories.import_offer import SqlImportOfferRepository
from store.adapters.repositories.inbox import SqlInboxRepository
from store.adapters.repositories.ledger import SqlLedgerRepository
from store.adapters.repositories.order import SqlOrderRepository
from store.adapters.repositories.outbox import SqlOutboxRepository
from store.adapters.repositories.payment import SqlPaymentRepository
from store.adapters.repositories.question import SqlQuestionRepository
from store.adapters.repositories.refund import SqlRefundRepository
from store.adapters.repositories.sealed_text import SqlSealedTextRepository
from store.adapters.repositories.supplier import SqlSupplierRepository
from store.adapters.repositories.ticket import SqlTicketRepository
from store.adapters.repositories.transparency_log import SqlTransparencyLogRepository
from store.adapters.repositories.user import SqlUserRepository
from store.domain.errors import DuplicateRecord, ReadOnlyError, StoreBusy
from store.domain.supplier import SupplierRules

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

    `async with uow.reading():` opens a read-only one instead: on SQLite a deferred transaction
    with `PRAGMA query_only`, so browsing never waits for the write lock that reservations take;
    on PostgreSQL a READ ONLY transaction. A write in it fails and its `commit()` raises, both as
    `ReadOnlyError`. A database that is busy or briefly unreachable surfaces as `StoreBusy`
    (nothing was changed; the caller may retry), never as a driver error.
    """

    def __init__(self, engine: AsyncEngine, supplier_rules: SupplierRules | None = None) -> None:
        self._engine = engine
        self.supplier_rules = supplier_rules or SupplierRules()
        self._read_only = False
        self._connection: AsyncConnection | None = None
        self._writers = _sqlite_write_lock(engine)
        self._held: asyncio.Lock | None = None

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._connection

    def reading(self) -> Self:
        """The next `async with` opens a read-only transaction."""
        if self._connection is not None:
            raise RuntimeError("reading() inside `async with`: the transaction is already open")
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        lock = None if self._read_only else self._writers
        if lock is not None:
            await lock.acquire()
        self._held = lock
        try:
            return await self._begin()
        except BaseException as error:
            self._release()
            if isinstance(error, Exception) and is_transient(error):
                raise StoreBusy(type(error).__name__) from error
            raise

    def _release(self) -> None:
        if self._held is not None:
            self._held.release()
            self._held = None
        self._read_only = False

    async def _begin(self) -> Self:
        connection = await self._engine.connect()
        try:
            if self._read_only:
                connection = await connection.execution_options(
                    kamibot_read_only=True, postgresql_readonly=True
                )
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        dialect = self._engine.dialect.name
        self.catalog = SqlCatalogRepository(connection)
        self.card_keys = SqlCardKeyRepository(connection, dialect, self.supplier_rules.sell_order)
        self.orders = SqlOrderRepository(connection, dialect)
        self.payments = SqlPaymentRepository(connection, dialect)
        self.ledger = SqlLedgerRepository(connection, dialect)
        self.escrow = SqlEscrowRepository(connection, dialect)
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
        self.transparency_log = SqlTransparencyLogRepository(connection, dialect)
        self.sealed = SqlSealedTextRepository(connection)
        self.import_offers = SqlImportOfferRepository(connection)
        self.suppliers = SqlSupplierRepository(connection)
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
            read_only = self._read_only
            self._release()
        if read_only and _is_read_only_refusal(exc):
            raise ReadOnlyError(str(exc.orig)) from exc
        if isinstance(exc, IntegrityError):
            raise DuplicateRecord(type(exc.orig).__name__) from exc
        if isinstance(exc, Exception) and not isinstance(exc, StoreBusy) and is_transient(exc):
            raise StoreBusy(type(exc).__name__) from exc

    async def commit(self) -> None:
        if self._read_only:
            raise ReadOnlyError("commit() of a unit of work opened with reading()")
        await self.connection.commit()

    async def rollback(self) -> None:
        await self.connection.rollback()


def _is_read_only_refusal(error: BaseException | None) -> TypeGuard[DBAPIError]:
    """A write the database refused because the transaction is read only."""
    if not isinstance(error, DBAPIError):
        return False
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state == "25006" or "attempt to write a readonly database" in str(error.orig)


class UnitOfWorkFactory:
    """Hands out units of work on one engine; services and handlers receive this."""

    def __init__(self, engine: AsyncEngine, supplier_rules: SupplierRules | None = None) -> None:
        self.engine = engine
        self.supplier_rules = supplier_rules or SupplierRules()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.supplier_rules)
