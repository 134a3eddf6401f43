"""INSERT … ON CONFLICT, whose form differs by database: both forms side by side."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflict(dialect: str, table: Table, **values: Any) -> Insert:
    """An insert that does nothing when a unique constraint already holds the row."""
    if dialect == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()


def upsert(dialect: str, table: Table, key: list[str], values: dict[str, Any]) -> Insert:
    """Insert, or update every non-key column of the row with the same key."""
    changed = {name: value for name, value in values.items() if name not in key}
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(**values)
        return pg.on_conflict_do_update(index_elements=key, set_=changed)
    lite = sqlite.insert(table).values(**values)
    return lite.on_conflict_do_update(index_elements=key, set_=changed)
