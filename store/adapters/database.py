"""Engines for SQLite and PostgreSQL, built by the composition root, never at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, lock not available,
# too many connections, the server starting or shutting down, and lost connections (class 08).
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03"})
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def is_transient(error: BaseException) -> bool:
    """Whether a database error means "busy or briefly unreachable", so the work may be retried.

    A constraint violation or a bad statement is not transient: retrying cannot help.
    """
    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        if isinstance(state, str) and (state in _RETRYABLE_SQLSTATES or state.startswith("08")):
            return True
        if isinstance(error, sa_exc.OperationalError):
            return any(busy in str(original).lower() for busy in _SQLITE_BUSY)
        return False
    return isinstance(error, ConnectionError | OSError) and not isinstance(error, FileNotFoundError)


class DatabaseUnavailable(Exception):
    """The database cannot be opened at all (no such server, a path no one may write)."""


async def open_migrated(url: str) -> AsyncEngine:
    """An engine on a database brought to the newest schema; DatabaseUnavailable, naming the
    database (never its password) and why, when it cannot be opened."""
    from store.adapters.migration import upgrade

    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = create_engine(url)
    except OSError as error:
        raise DatabaseUnavailable(f"cannot open the database {shown}: {error.strerror}") from None
    try:
        await upgrade(engine)
    except (OSError, sa_exc.SQLAlchemyError) as error:
        await engine.dispose()
        reason = (
            error.strerror if isinstance(error, OSError) else str(error.args[0]).splitlines()[0]
        )
        raise DatabaseUnavailable(f"cannot open the database {shown}: {reason}") from None
    return engine


def create_engine(url: str, *, echo: bool = False, busy_timeout_ms: int = 30_000) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE write transactions.

    Python's sqlite driver opens transactions lazily, so two writers could both read before either
    writes; BEGIN IMMEDIATE takes the write lock up front, which serialises reservations. A
    read-only unit of work (`kamibot_read_only`) begins a deferred transaction under
    `PRAGMA query_only`, so it takes no write lock and cannot write.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": busy_timeout_ms / 1000},
        pool_size=10,
        max_overflow=30,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = bool(connection.get_execution_options().get("kamibot_read_only", False))
        if connection.info.get("kamibot_query_only", False) != read_only:
            # a pooled connection keeps the pragma: set it only when it changes
            connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            connection.info["kamibot_query_only"] = read_only
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
