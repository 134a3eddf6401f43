"""Typed settings, read once by pydantic-settings from an environment mapping and a .env file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic_settings
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_INVOICE_STARS = 10_000
"""The most Stars one invoice may ask for: the Bot API caps a Stars price at 10000."""
MAX_TELEGRAM_ID = 2**52 - 1
"""Telegram user ids are positive and have at most 52 significant bits (Bot API, User.id)."""
_SQLITE = "sqlite+aiosqlite://"
_WHOLE_NUMBER = re.compile(r"[0-9]+")
_CLOCK = r"([01]?[0-9]|2[0-3]):[0-5][0-9]"
_HOURS = re.compile(rf"\s*{_CLOCK}\s*-\s*({_CLOCK}|24:00)\s*")
PLACEHOLDER_SECRET = "replace-with-a-long-random-passphrase-of-32-or-more-characters"
"""The CARD_KEY_SECRET that .env.example ships: anyone who read the README knows it."""


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _whole_numbers(value: object, high: int, what: str) -> object:
    """Comma-separated whole numbers from 1 to `high`, each written as plain digits."""
    parts = _split_csv(value)
    if not isinstance(parts, list | tuple):
        return parts
    numbers: list[int] = []
    for part in parts:
        text = str(part).strip()
        number = int(text) if _WHOLE_NUMBER.fullmatch(text) else 0
        if not 1 <= number <= high:
            raise ValueError(f"{part!r} is not {what}")
        numbers.append(number)
    return tuple(numbers)


def _sqlite_problem(url: str) -> str | None:
    """Why a SQLite URL cannot hold the shop's data, judged without touching the disk."""
    rest = url.removeprefix(_SQLITE)
    if rest and not rest.startswith("/"):
        return "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
    database, _, query = rest.removeprefix("/").partition("?")
    if "uri=true" in query:
        database = database.removeprefix("file:")
    if database in ("", ":memory:") or "mode=memory" in query:
        # Each pooled connection would open its own, empty, database.
        return (
            "names an in-memory SQLite database, which each connection would see empty; "
            "give a file, e.g. sqlite+aiosqlite:///data/kamibot.sqlite3"
        )
    path = Path(database)
    if os.path.isdir(path):
        return f"names {path}, which is a folder, not a database file"
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        return f"names {path}, which cannot be written"
    folder = path.parent
    while not os.path.exists(folder) and folder != folder.parent:
        folder = folder.parent
    if not os.path.isdir(folder):
        return f"names {path}, which cannot be created: {folder} is a file, not a folder"
    # SQLite writes its journal beside the database, so the folder must take new files.
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"names {path}, which cannot be written: {folder} is read-only"
    return None


class Settings(BaseSettings):
    """Everything Kamibot reads from its environment. Field names are the environment keys."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        case_sensitive=True,
        env_file=".env",
        # Lists are written comma-separated (ADMIN_IDS=1,2), not as JSON; the validators split.
        enable_decoding=False,
    )

    BOT_TOKEN: SecretStr | None = None
    TELEGRAM_API_BASE: str = TELEGRAM_API
    DATABASE_URL: str = "sqlite+aiosqlite:///data/kamibot.sqlite3"
    ADMIN_IDS: tuple[int, ...] = ()
    CARD_KEY_SECRET: tuple[SecretStr, ...] = ()
    """Only what touches card keys needs it (`card_key_secrets`); `catalog load` does not."""
    SHOP_NAME: str = "Kamibot"
    SHOP_CURRENCY: str = "CNY"
    STAR_VALUE_MINOR: int = Field(default=10, ge=1)
    """What one Telegram Star is worth in the shop currency's minor units (10 = ¥0.10)."""
    TOPUP_STARS: tuple[int, ...] = (50, 100, 500, 1000)
    RESERVATION_MINUTES: int = Field(default=15, ge=1, le=24 * 60)
    MAX_OPEN_RESERVATIONS: int = Field(default=3, ge=1)
    DEFAULT_ORDER_LIMIT: int = Field(default=10, ge=1)
    SUPPORT_CONTACT: str = "@kamibot_support"
    REFUND_WINDOW_DAYS: int = Field(default=7, ge=0, le=365)
    ESCROW_MARGIN_DAYS: int = Field(default=2, ge=0, le=365)
    """A sold key's supplier cost waits in escrow REFUND_WINDOW_DAYS plus this, then settles."""
    AGENT_IDS: tuple[int, ...] = ()
    """Telegram ids of support agents (admins may act as agents too)."""
    AGENT_CAPACITY: int = Field(default=3, ge=1, le=50)
    FIRST_RESPONSE_MINUTES: int = Field(default=5, ge=1)
    NEXT_RESPONSE_MINUTES: int = Field(default=10, ge=1)
    SHOP_TIMEZONE: str = "Asia/Shanghai"
    """The zone of every time buyers see, and of SUPPORT_HOURS (an IANA name)."""
    SUPPORT_HOURS: str = "09:00-23:00"
    """When agents are on duty, in SHOP_TIMEZONE; 22:00-02:00 runs past midnight."""
    FAQ_DIR: str = ""
    """Knowledge-base folder; empty means the one shipped in faq/knowledge."""
    REPLACE_AUTOMATICALLY: bool = True
    REPLACE_WITHIN_HOURS: int = Field(default=24, ge=0)
    REPLACE_COOLDOWN_DAYS: int = Field(default=30, ge=0)
    REPLACE_MAX_ORDER_MINOR: int = Field(default=20_000, ge=0)
    RECONCILE_SECONDS: int = Field(default=60, ge=5, le=3600)
    """How often payments are reconciled with Telegram's record and stuck refunds resumed."""
    LOG_LEVEL: str = "INFO"

    # --- the transparency log (溯源): checkpoints are signed with a key kept apart from the
    # database, so that the database alone cannot forge a key's history ---
    TRACE_SIGNING_KEY: SecretStr | None = None
    """The log's Ed25519 key: a C2SP `PRIVATE+KEY+name+id+key` string, or a base64 32-byte
    seed (then named TRACE_ORIGIN). Only signing needs it (`python -m bot trace pubkey`)."""
    TRACE_ORIGIN: str = "kamibot.example/log"
    """The first line of every checkpoint: names the shop's log (no spaces, no plus sign)."""
    TRACE_CHECKPOINT_FILE: str = ""
    """A file each new checkpoint is appended to, for others to copy; empty: none."""
    TRACE_CHANNEL: int | None = None
    """A Telegram chat id each new checkpoint is posted to; unset: none."""
    TRACE_CHECKPOINT_SECONDS: int = Field(default=300, ge=10, le=86_400)
    """How often a checkpoint is signed when new events came."""

    @field_validator("TRACE_ORIGIN")
    @classmethod
    def _origin_is_a_key_name(cls, value: str) -> str:
        if not value or any(ch.isspace() or ch == "+" or ch < " " for ch in value):
            raise ValueError("is one word without spaces or plus signs, e.g. shop.example/log")
        return value

    # Suppliers' standing (issue 9 §2): store.domain.supplier.SupplierRules
    SELL_ORDER: Literal["oldest_batch", "cheapest_cost"] = "oldest_batch"
    """Which supplier's keys of a product sell first: the oldest batch, or the cheapest."""
    SUPPLIER_WINDOW_DAYS: int = Field(default=30, ge=1, le=365)
    """The rolling window of a supplier's invalid rate (confirmed bad over keys sold)."""
    SUPPLIER_MAX_INVALID_RATE: float = Field(default=0.05, ge=0, le=1)
    """A rate above this, over at least SUPPLIER_MIN_SAMPLE sales, suspends the supplier."""
    SUPPLIER_MIN_SAMPLE: int = Field(default=20, ge=1)
    SUPPLIER_MIN_DEPOSIT: int = Field(default=0, ge=0)
    """Minor units of deposit below which a supplier's new batches wait, not on sale."""

    @field_validator("ADMIN_IDS", "AGENT_IDS", mode="before")
    @classmethod
    def _user_ids(cls, value: object) -> object:
        return _whole_numbers(
            value,
            MAX_TELEGRAM_ID,
            f"a Telegram user id (a whole number from 1 to {MAX_TELEGRAM_ID})",
        )

    @field_validator("TOPUP_STARS", mode="before")
    @classmethod
    def _topup_amounts(cls, value: object) -> object:
        what = f"a whole number of Stars from 1 to {MAX_INVOICE_STARS}"
        amounts = _whole_numbers(value, MAX_INVOICE_STARS, what)
        if isinstance(amounts, tuple):
            if not amounts:
                raise ValueError("needs at least one amount")
            repeated = [amount for index, amount in enumerate(amounts) if amount in amounts[:index]]
            if repeated:
                raise ValueError(f"lists {repeated[0]} twice")
        return amounts

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _known_log_level(cls, value: object) -> object:
        level = value.strip().upper() if isinstance(value, str) else value
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return level

    @field_validator("SHOP_TIMEZONE")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone; use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @field_validator("SUPPORT_HOURS")
    @classmethod
    def _hours_shaped(cls, value: str) -> str:
        if not _HOURS.fullmatch(value):
            raise ValueError(f"{value!r} is not a span like 09:00-23:00 (in SHOP_TIMEZONE)")
        return value.strip()

    @field_validator("FAQ_DIR")
    @classmethod
    def _faq_folder(cls, value: str) -> str:
        if value and not os.path.isdir(value):
            state = "is a file, not a folder" if os.path.exists(value) else "does not exist"
            raise ValueError(f"names {value}, which {state}")
        return value

    @field_validator("CARD_KEY_SECRET", mode="before")
    @classmethod
    def _secrets_from_csv(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return _split_csv(value)

    @field_validator("CARD_KEY_SECRET")
    @classmethod
    def _secrets_long_enough(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        # Empty is "not set", refused by `card_key_secrets` where a passphrase is needed.
        if any(len(secret.get_secret_value()) < 32 for secret in value):
            raise ValueError("each passphrase needs at least 32 characters")
        return value

    @field_validator("BOT_TOKEN")
    @classmethod
    def _token_shaped(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        bot_id, _, rest = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or not rest:
            raise ValueError("expected the form 123456:ABC... from @BotFather")
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith((_SQLITE, "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
        problem = _sqlite_problem(value) if value.startswith(_SQLITE) else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("TELEGRAM_API_BASE")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s):// URL")
        return value.rstrip("/")

    def token(self) -> str:
        """The bot token; only running the bot needs it, so it is checked here."""
        if self.BOT_TOKEN is None:
            raise SettingsError("Setting BOT_TOKEN is not set")
        return self.BOT_TOKEN.get_secret_value()

    def card_key_secrets(self) -> list[str]:
        """The passphrases, newest first; checked here, as only card keys need them."""
        secrets = [secret.get_secret_value() for secret in self.CARD_KEY_SECRET]
        if not secrets:
            raise SettingsError("Setting CARD_KEY_SECRET is not set")
        if PLACEHOLDER_SECRET in secrets:
            raise SettingsError(
                "Setting CARD_KEY_SECRET is still the placeholder from .env.example; put your own "
                "passphrase there (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return secrets

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment is a parameter (`load_settings`), passed in as init values; the
        # process's own os.environ is never read here, so a test's mapping is all there is.
        return init_settings, dotenv_settings


def load_settings(
    environ: Mapping[str, str], env_file: Path | None = Path(".env"), **overrides: object
) -> Settings:
    """Settings from a .env file overlaid by the environment; raise SettingsError naming a field."""
    values: dict[str, Any] = {k: v for k, v in environ.items() if k in Settings.model_fields}
    values.update(overrides)
    # `_env_file` is pydantic-settings' own init argument; mypy sees only the fields' __init__.
    values["_env_file"] = env_file if env_file is not None and env_file.is_file() else None
    try:
        return Settings(**values)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"][:1]) or "settings"
        reason = "is not set" if first["type"] == "missing" else first["msg"]
        reason = reason.removeprefix("Value error, ")  # pydantic's prefix to our own reasons
        raise SettingsError(f"Setting {name} {reason}") from None
    except pydantic_settings.SettingsError as error:  # a source that could not be read
        raise SettingsError(str(error).splitlines()[0]) from None
