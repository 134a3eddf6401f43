"""The crash test, small form: 30 buyers, the real bot killed twice, on each runtime and
database. Every charge Telegram took is delivered exactly once or refunded exactly once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL
from tests.crash_sale import SalePlan, run_sale


def _log_tail(folder: Path) -> str:
    """What the bot printed last, to read when an assertion fails."""
    return "".join(p.read_text(errors="replace")[-3000:] for p in folder.glob("bot-*.log"))


@pytest.mark.parametrize("runtime", ["aiogram", "ptb"])
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_a_sale_killed_twice_loses_doubles_and_sticks_nothing(
    runtime: str, database: str, tmp_path: Path
) -> None:
    if database == "postgresql":
        if not POSTGRES_URL:
            if os.environ.get("CI"):
                pytest.fail("TEST_DATABASE_URL must be set on CI: PostgreSQL tests may not skip")
            pytest.skip("PostgreSQL not configured: set TEST_DATABASE_URL to run these")
        url = POSTGRES_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    report = await run_sale(SalePlan(runtime, url, buyers=30, kills=2, seed=7), tmp_path)
    log = _log_tail(tmp_path)
    assert report.charges >= 15, log  # the sale happened: most buyers paid in Stars
    assert report.lost == [], log
    assert report.doubled == [], log
    assert report.paid_without_keys == [], log
    assert report.stuck_refunds == [], log
    assert report.keys_in_two_orders == [], log
    assert report.other_breaches == {}, log
    assert report.buyers_unserved == [], log
    assert report.repeated_notices == [], log  # a repeat after a crash is an edit
