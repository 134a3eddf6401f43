"""Settings: read from a mapping, and a bad one stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from config.settings import SettingsError, load_settings

SECRET = "s" * 40


def test_settings_come_from_the_environment_mapping() -> None:
    settings = load_settings(
        {"BOT_TOKEN": "123:abc", "CARD_KEY_SECRET": f"{SECRET},{'t' * 40}", "ADMIN_IDS": "1, 2"},
        env_file=None,
    )
    assert settings.ADMIN_IDS == (1, 2) and len(settings.card_key_secrets()) == 2
    assert settings.token() == "123:abc"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "CARD_KEY_SECRET"),
        ({"CARD_KEY_SECRET": "short"}, "CARD_KEY_SECRET"),
        ({"CARD_KEY_SECRET": SECRET, "BOT_TOKEN": "nocolon"}, "BOT_TOKEN"),
        ({"CARD_KEY_SECRET": SECRET, "ADMIN_IDS": "1,x"}, "ADMIN_IDS"),
        ({"CARD_KEY_SECRET": SECRET, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_a_missing_or_malformed_setting_is_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named) as error:
        load_settings(environ, env_file=None)
    assert "\n" not in str(error.value)


def test_running_the_bot_needs_a_token() -> None:
    settings = load_settings({"CARD_KEY_SECRET": SECRET}, env_file=None)
    with pytest.raises(SettingsError, match="BOT_TOKEN is not set"):
        settings.token()
