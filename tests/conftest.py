"""Shared fixtures: a migrated database on SQLite and (when configured) PostgreSQL, a clock."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from playwright.async_api import Browser, async_playwright
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import create_engine
from store.adapters.migration import upgrade
from store.adapters.unit_of_work import UnitOfWorkFactory

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")

# Property tests: 60 random sequences each in `make test`; `--hypothesis-profile deep` for 600.
settings.register_profile("default", max_examples=60)
settings.register_profile("deep", max_examples=600)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, start: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cipher() -> CardKeyCipher:
    return CardKeyCipher(["test passphrase that is long enough for kamibot!"])


async def _reset_postgres(url: str) -> AsyncEngine:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    return engine


def _backends() -> list[object]:
    postgres = pytest.param("postgresql", marks=pytest.mark.postgres, id="postgresql")
    return ["sqlite", postgres]


@pytest.fixture(params=_backends())
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A freshly migrated database; PostgreSQL comes from TEST_DATABASE_URL."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            if os.environ.get("CI"):
                pytest.fail("TEST_DATABASE_URL must be set on CI: PostgreSQL tests may not skip")
            pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL to run these")
        built = await _reset_postgres(POSTGRES_URL)
    else:
        built = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}")
    await upgrade(built)
    yield built
    await built.dispose()


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(engine)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    executable = os.environ.get("SANDBOX_CHROMIUM") or shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium must be installed on CI (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium on this machine: apt-get install chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        await launched.close()
