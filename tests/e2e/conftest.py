"""The real runtimes, over HTTP, against the local Telegram sandbox, on a SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import KamibotApp
from bot.demo import DEMO_USERS
from bot.sender import Limits
from config.settings import load_settings
from sandbox import Sandbox
from sandbox.sandbox import DEFAULT_TOKEN
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import create_engine
from store.adapters.migration import upgrade
from store.adapters.unit_of_work import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.factories import stocked_shop

ADMIN = 42
AGENT = 77
SECRET = "an e2e passphrase comfortably longer than 32 chars"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    fake = Sandbox(DEFAULT_TOKEN, users=DEMO_USERS)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def clock() -> FakeClock:
    """The shop's scripted clock: time moves only when a test moves it."""
    return FakeClock(datetime.now(UTC))


@asynccontextmanager
async def running_shop(
    runtime: str,
    sandbox: Sandbox,
    tmp_path: Path,
    clock: FakeClock,
    more_settings: dict[str, str] | None = None,
) -> AsyncIterator[KamibotApp]:
    """The bot on `runtime`, with one stocked product, STEAM-50 (3 keys), and these settings
    on top of the e2e ones."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.sqlite3'}"
    engine = create_engine(url)
    await upgrade(engine)
    await stocked_shop(UnitOfWorkFactory(engine), CardKeyCipher([SECRET]), clock, stock=3)
    await engine.dispose()
    settings = load_settings(
        {
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": sandbox.base_url,
            "DATABASE_URL": url,
            "ADMIN_IDS": str(ADMIN),
            "AGENT_IDS": str(AGENT),
            "CARD_KEY_SECRET": SECRET,
            **(more_settings or {}),
        },
        env_file=None,
    )
    # Pacing itself is proven in tests/unit/test_sender.py; here a quicker per-chat rate keeps
    # each conversation from waiting a second between screens.
    limits = Limits(per_chat_per_second=20, per_chat_burst=10)
    app = KamibotApp(
        settings,
        runtime="ptb" if runtime == "ptb" else "aiogram",
        with_scheduler=False,
        limits=limits,
        clock=clock,
    )
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture(params=["aiogram", "ptb"])
async def shop(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[KamibotApp]:
    """A running bot with one stocked product, STEAM-50 (3 keys)."""
    async with running_shop(request.param, sandbox, tmp_path, clock) as app:
        yield app
