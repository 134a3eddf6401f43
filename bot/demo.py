"""`python -m bot demo`: the local Telegram sandbox, a demo catalog with stock, and the real bot."""

from __future__ import annotations

import secrets
import string
import sys
from pathlib import Path

from bot.app import KamibotApp, open_database, until_interrupted
from config.settings import Settings
from sandbox import Sandbox
from sandbox.sandbox import DEFAULT_TOKEN
from sandbox.state import UserProfile
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.clock import SystemClock
from store.formats.catalog_file import parse_catalog
from store.formats.key_file import parse_key_file
from store.services.catalog import load_catalog
from store.services.stock import import_card_keys, stock_status

DATA = Path("data")
CATALOG = Path(__file__).with_name("demo_catalog.yaml")
DEMO_ADMIN = 42
DEMO_AGENT = 77
DEMO_USERS = (
    UserProfile(user_id=1001, first_name="小李", language_code="zh-hans"),
    UserProfile(user_id=1002, first_name="阿明", language_code="zh-hant"),
    UserProfile(user_id=1003, first_name="Alex", language_code="en"),
    UserProfile(user_id=DEMO_AGENT, first_name="Mei", language_code="en"),
    UserProfile(user_id=DEMO_ADMIN, first_name="Admin", language_code="en"),
)
DEMO_STOCK = 30


def demo_environment(environ: dict[str, str]) -> dict[str, str]:
    """Fill in what the demo needs and the user did not set: a token, a database, a secret."""
    env = dict(environ)
    env.setdefault("BOT_TOKEN", DEFAULT_TOKEN)
    env.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{DATA / 'demo.sqlite3'}")
    env.setdefault("ADMIN_IDS", str(DEMO_ADMIN))
    env.setdefault("AGENT_IDS", str(DEMO_AGENT))
    if "CARD_KEY_SECRET" not in env:
        secret_file = DATA / "card_key_secret"
        if not secret_file.exists():
            DATA.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_urlsafe(48) + "\n")
            secret_file.chmod(0o600)
        env["CARD_KEY_SECRET"] = secret_file.read_text().strip()
    return env


def _fake_key(sku: str) -> str:
    alphabet = string.ascii_uppercase + string.digits
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return f"{sku.split('-')[0]}-" + "-".join(groups)


async def stock_demo_shop(settings: Settings) -> None:
    """Load the demo catalog and top every product up to DEMO_STOCK keys."""
    engine = await open_database(settings)
    uow = UnitOfWorkFactory(engine)
    cipher = CardKeyCipher(settings.card_key_secrets())
    try:
        spec = parse_catalog(CATALOG.read_text(encoding="utf-8"))
        await load_catalog(
            uow(),
            spec=spec,
            star_value_minor=settings.STAR_VALUE_MINOR,
            default_order_limit=settings.DEFAULT_ORDER_LIMIT,
        )
        for level in await stock_status(uow()):
            missing = DEMO_STOCK - level.available
            if missing > 0:
                lines = "\n".join(_fake_key(level.sku) for _ in range(missing)).encode()
                await import_card_keys(
                    uow,
                    sku=level.sku,
                    parsed=parse_key_file("demo.txt", lines),
                    source="demo stock",
                    cipher=cipher,
                    now=SystemClock().now(),
                    all_or_nothing=False,
                )
    finally:
        await engine.dispose()


async def run_demo(settings: Settings, *, host: str, port: int, runtime: str) -> int:
    await stock_demo_shop(settings)
    sandbox = Sandbox(
        settings.token(),
        users=DEMO_USERS,
        bot_username="kamibot_demo_bot",
        bot_first_name=settings.SHOP_NAME,
    )
    url = await sandbox.start(host=host, port=port)
    app = KamibotApp(
        settings.model_copy(update={"TELEGRAM_API_BASE": url}),
        runtime="ptb" if runtime == "ptb" else "aiogram",
    )
    await app.start()
    sys.stdout.write(
        f"\nKamibot demo is running.\n  Open {url}/ in a browser to chat with the bot "
        "(buyers 小李 = 1001, 阿明 = 1002 and Alex = 1003, "
        f"agent Mei = {DEMO_AGENT}, admin = {DEMO_ADMIN}).\n"
        "  This is a local Telegram sandbox: nothing leaves this machine. Ctrl+C stops.\n\n"
    )
    sys.stdout.flush()
    try:
        await until_interrupted()
    finally:
        await app.stop()
        await sandbox.stop()
    return 0
