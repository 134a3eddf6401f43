"""Applying Alembic migrations to an async engine, programmatically (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_config(sync), revision))
        await connection.commit()


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.downgrade(_config(sync), revision))
        await connection.commit()


async def make_revision(engine: AsyncEngine, message: str) -> None:
    """Developer tool: autogenerate a migration from store/adapters/tables.py."""
    async with engine.connect() as connection:
        await connection.run_sync(
            lambda sync: command.revision(_config(sync), message=message, autogenerate=True)
        )
