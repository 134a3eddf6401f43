"""Nothing secret, typed or personal reaches a log line, on either runtime, even at DEBUG."""

from __future__ import annotations

import logging

import pytest

from bot.app import KamibotApp
from sandbox import Sandbox
from sandbox.sandbox import DEFAULT_TOKEN
from tests.e2e.conftest import SECRET
from tests.e2e.test_storefront import open_order, pay_with_stars
from tests.e2e.test_support import on_duty

PASTED_KEY = "ZQ7K-44PL-XW9R-M2TT"
PASTED_EMAIL = "li.wei.private@example.org"
FIRST_NAME, LAST_NAME, USERNAME = "Zhaoyun", "Qiansheng", "zhao_private_77"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything at DEBUG from before the shop starts, so its start-up lines are read too."""
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_no_log_line_carries_a_key_the_token_the_secret_or_what_people_typed(
    debug_logs: pytest.LogCaptureFixture, sandbox: Sandbox, shop: KamibotApp
) -> None:
    buyer = sandbox.user(1003, first_name=FIRST_NAME, last_name=LAST_NAME, username=USERNAME)
    await pay_with_stars(buyer, await open_order(buyer))
    ready = await buyer.wait_for_text("ready for order")
    await buyer.press("🔑 Show keys", ready)
    assert await buyer.wait_for_text("STEAM-50-000000")

    agent = await on_duty(sandbox)
    await buyer.send_text("人工")
    await buyer.wait_for_text("Agent 01 is with you")
    await agent.wait_for_text("Ticket #")
    await buyer.send_text(f"my key {PASTED_KEY} does not work, mail me at {PASTED_EMAIL}")
    await agent.wait_for_text(f"{FIRST_NAME}: my key {PASTED_KEY}")
    await agent.send_text(f"Is it {PASTED_KEY}? I will write to {PASTED_EMAIL}")
    await buyer.wait_for_text(f"Agent 01: Is it {PASTED_KEY}?")

    records = debug_logs.get_records("setup") + debug_logs.get_records("call")
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)
    assert logged  # the runtimes and the shop did log
    secret_token = DEFAULT_TOKEN.split(":", 1)[1]
    typed = (PASTED_KEY, PASTED_EMAIL, FIRST_NAME, LAST_NAME, USERNAME)
    for forbidden in ("STEAM-50-000000", secret_token, SECRET, *typed):
        assert forbidden not in logged, [line for line in logged.splitlines() if forbidden in line]
