"""At start-up the bot describes itself per language and gives staff their command menus."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import KamibotApp, Runtime
from bot.demo import DEMO_USERS
from config.settings import load_settings
from sandbox import Sandbox
from sandbox.sandbox import DEFAULT_TOKEN
from sandbox.state import UserProfile
from tests.e2e.conftest import ADMIN, AGENT, SECRET

USERS = {user.user_id: user for user in DEMO_USERS}


def names(sandbox: Sandbox, user: UserProfile) -> list[str]:
    return [command["command"] for command in sandbox.state.resolve_commands(user)]


async def test_a_new_chat_shows_the_description_in_the_users_language(
    shop: KamibotApp, sandbox: Sandbox
) -> None:
    chinese, english = USERS[1001], USERS[1003]
    assert "发送“人工”" in sandbox.state.resolve_description(chinese)
    assert "send 人工" in sandbox.state.resolve_description(english)
    assert "卡密秒发" in sandbox.state.resolve_description(chinese, "short_description")
    assert "Kamibot" in sandbox.state.resolve_description(english, "short_description")


async def test_agents_and_admins_get_their_own_command_menus_at_start_up(
    shop: KamibotApp, sandbox: Sandbox
) -> None:
    buyer, agent, admin = USERS[1001], USERS[AGENT], USERS[ADMIN]
    assert "duty" not in names(sandbox, buyer) and "stock" not in names(sandbox, buyer)
    assert {"duty", "next", "tickets", "alias"} <= set(names(sandbox, agent))
    assert "stock" not in names(sandbox, agent)
    assert {"duty", "stock", "stats", "import"} <= set(names(sandbox, admin))


@pytest.mark.parametrize("runtime", ["aiogram", "ptb"])
async def test_a_server_without_the_description_methods_costs_one_log_line_not_the_start(
    runtime: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = Sandbox(DEFAULT_TOKEN, users=DEMO_USERS)
    for method in ("setmydescription", "setmyshortdescription"):
        del sandbox.api._methods[method]  # as a server that does not know them answers 404
    await sandbox.start()
    settings = load_settings(
        {
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": sandbox.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}",
            "AGENT_IDS": str(AGENT),
            "CARD_KEY_SECRET": SECRET,
        },
        env_file=None,
    )
    chosen: Runtime = "ptb" if runtime == "ptb" else "aiogram"
    app = KamibotApp(settings, runtime=chosen, with_scheduler=False)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            await app.start()
        refused = [r for r in caplog.records if "description was not set" in r.getMessage()]
        assert len(refused) == 1
        assert "duty" in names(sandbox, USERS[AGENT])  # the rest of start-up went on
    finally:
        await app.stop()
        await sandbox.stop()
