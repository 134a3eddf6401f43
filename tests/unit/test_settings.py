"""Settings: read from a mapping, and a bad one stops start-up with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings, SettingsError, load_settings

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


def settings_with(**environ: str) -> Settings:
    return load_settings({"CARD_KEY_SECRET": SECRET, **environ}, env_file=None)


def refusal(**environ: str) -> str:
    with pytest.raises(SettingsError) as error:
        settings_with(**environ)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("written", ["debug", "Debug", " warning ", "ERROR"])
def test_the_log_level_may_be_written_in_any_case(written: str) -> None:
    level = settings_with(LOG_LEVEL=written).LOG_LEVEL
    assert level == written.strip().upper()


@pytest.mark.parametrize("written", ["verbose", "", "10", "notset"])
def test_an_unknown_log_level_is_refused_naming_the_levels(written: str) -> None:
    assert refusal(LOG_LEVEL=written) == (
        f"Setting LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {written!r}"
    )


def test_the_faq_directory_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert refusal(FAQ_DIR=str(missing)) == f"Setting FAQ_DIR names {missing}, which does not exist"


def test_the_faq_directory_must_be_a_directory(tmp_path: Path) -> None:
    file = tmp_path / "faq.yaml"
    file.write_text("entries: []\n")
    assert refusal(FAQ_DIR=str(file)) == (
        f"Setting FAQ_DIR names {file}, which is a file, not a folder"
    )


def test_an_existing_faq_directory_is_taken(tmp_path: Path) -> None:
    folder = settings_with(FAQ_DIR=str(tmp_path)).FAQ_DIR
    assert folder == str(tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file:kamibot?mode=memory&uri=true",
    ],
)
def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    assert refusal(DATABASE_URL=url).startswith(
        "Setting DATABASE_URL names an in-memory SQLite database"
    )


def test_a_sqlite_url_with_a_host_is_refused() -> None:
    assert refusal(DATABASE_URL="sqlite+aiosqlite://data/kamibot.sqlite3").startswith(
        "Setting DATABASE_URL use sqlite+aiosqlite:///path"
    )


def test_a_sqlite_database_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    url = f"sqlite+aiosqlite:///{blocker / 'db' / 'kamibot.sqlite3'}"
    assert refusal(DATABASE_URL=url) == (
        f"Setting DATABASE_URL names {blocker / 'db' / 'kamibot.sqlite3'}, "
        f"which cannot be created: {blocker} is a file, not a folder"
    )


def test_a_sqlite_database_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}"
    assert refusal(DATABASE_URL=url) == (
        f"Setting DATABASE_URL names {tmp_path}, which is a folder, not a database file"
    )


def test_a_sqlite_database_in_a_folder_yet_to_be_made_is_taken(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'deeper' / 'kamibot.sqlite3'}"
    taken = settings_with(DATABASE_URL=url).DATABASE_URL
    assert taken == url
    assert not (tmp_path / "new").exists()  # checking makes nothing


def test_a_postgresql_url_is_not_checked_on_disk() -> None:
    url = "postgresql+asyncpg://kamibot@db.internal/kamibot"
    taken = settings_with(DATABASE_URL=url).DATABASE_URL
    assert taken == url


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("0", "'0' is not a whole number of Stars from 1 to 10000"),
        ("-5", "'-5' is not a whole number of Stars from 1 to 10000"),
        ("50,1234567890", "'1234567890' is not a whole number of Stars from 1 to 10000"),
        ("50,10001", "'10001' is not a whole number of Stars from 1 to 10000"),
        ("50,1_000", "'1_000' is not a whole number of Stars from 1 to 10000"),
        ("50.0", "'50.0' is not a whole number of Stars from 1 to 10000"),
        ("", "needs at least one amount"),
        (" , ", "needs at least one amount"),
        ("50,100,50", "lists 50 twice"),
    ],
)
def test_top_up_amounts_must_be_stars_an_invoice_accepts(written: str, problem: str) -> None:
    assert refusal(TOPUP_STARS=written) == f"Setting TOPUP_STARS {problem}"


def test_top_up_amounts_up_to_the_invoice_maximum_are_taken() -> None:
    assert settings_with(TOPUP_STARS="1, 10000").TOPUP_STARS == (1, 10000)


@pytest.mark.parametrize("name", ["ADMIN_IDS", "AGENT_IDS"])
@pytest.mark.parametrize("written", ["-5", "0", "1,-2", "1.5", "4503599627370496"])
def test_telegram_user_ids_must_be_positive(name: str, written: str) -> None:
    bad = next(part for part in written.split(",") if part != "1")
    assert refusal(**{name: written}) == (
        f"Setting {name} {bad!r} is not a Telegram user id (a whole number from 1 to "
        "4503599627370495)"
    )


@pytest.mark.parametrize("name", ["ADMIN_IDS", "AGENT_IDS"])
def test_telegram_user_ids_may_be_left_empty(name: str) -> None:
    assert getattr(settings_with(**{name: ""}), name) == ()


def test_a_dotenv_file_is_read_and_the_environment_mapping_overrides_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"CARD_KEY_SECRET={SECRET}\nADMIN_IDS=1, 2\nLOG_LEVEL=debug\nOTHER=x\n")
    settings = load_settings({"LOG_LEVEL": "warning"}, env_file=env_file)
    assert (settings.ADMIN_IDS, settings.LOG_LEVEL) == ((1, 2), "WARNING")


def test_a_bad_setting_in_the_dotenv_file_is_named_in_one_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"CARD_KEY_SECRET={SECRET}\nREPLACE_AUTOMATICALLY=maybe\n")
    with pytest.raises(SettingsError, match=r"^Setting REPLACE_AUTOMATICALLY ") as error:
        load_settings({}, env_file=env_file)
    assert "\n" not in str(error.value)


def test_only_the_mapping_given_is_read_not_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARD_KEY_SECRET", SECRET)
    monkeypatch.setenv("SHOP_NAME", "From the process")
    with pytest.raises(SettingsError, match="CARD_KEY_SECRET is not set"):
        load_settings({}, env_file=None).card_key_secrets()
    assert settings_with().SHOP_NAME == "Kamibot"


def test_settings_load_without_a_card_key_secret_until_one_is_needed() -> None:
    settings = load_settings({}, env_file=None)
    with pytest.raises(SettingsError, match=r"^Setting CARD_KEY_SECRET is not set$"):
        settings.card_key_secrets()


def test_the_placeholder_secret_from_env_example_is_refused_in_one_line() -> None:
    example = Path(__file__).parents[2] / ".env.example"
    settings = load_settings({}, env_file=example)
    with pytest.raises(SettingsError, match=r"placeholder from \.env\.example") as error:
        settings.card_key_secrets()
    assert "\n" not in str(error.value)


def test_the_token_and_the_passphrases_are_never_shown() -> None:
    settings = load_settings({"BOT_TOKEN": "123:abc", "CARD_KEY_SECRET": SECRET}, env_file=None)
    assert "123:abc" not in repr(settings) and SECRET not in repr(settings)
    assert settings.token() == "123:abc" and settings.card_key_secrets() == [SECRET]
