"""`python -m bot demo`: the local Telegram sandbox, a demo catalog with stock, and the real bot."""

from __future__ import annotations

import secrets
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.app import KamibotApp, open_database, supplier_rules, until_interrupted
from config.settings import Settings
from sandbox import Sandbox
from sandbox.sandbox import DEFAULT_TOKEN
from sandbox.state import UserProfile
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.batch_manifest import manifest, signed_message
from store.domain.clock import SystemClock
from store.domain.signed_note import Signer
from store.domain.supplier import HOUSE_SUPPLIER
from store.formats.catalog_file import parse_catalog
from store.formats.key_file import parse_key_file
from store.services.catalog import load_catalog
from store.services.ports import NewUnitOfWork
from store.services.stock import import_card_keys, stock_status
from store.services.supplier import add_supplier, list_suppliers
from store.services.supplier_money import pay_deposit

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
DEMO_ORIGIN = "kamibot.demo/log"
"""The demo log's name: the first line of its checkpoints and its verifier key's name."""


@dataclass(frozen=True)
class DemoSupply:
    supplier: str
    cost_minor: int
    """The supplier's cost per key, in minor units (the shop's margin is the rest)."""


DEMO_VENDOR = "yunka"
"""The demo's upstream vendor: it signs its batches, so /trace shows a verified signature."""
DEMO_VENDOR_SEED = bytes.fromhex("ae7f16ecf6c0abea3accd1316b0e0fe52bedb09c2d5ef8766e279616e920e9c8")
"""The vendor's Ed25519 private key, published here on purpose: it signs demo batches only.
Its public key, registered with the supplier, is
cde4554da602f39eed9fa21ed6700306c7338252bbdf3a5b3995bd4aa6502162."""
DEMO_AUTHORISATION = (
    "授权书 / Letter of authorisation (demo)\n"
    "云卡数码 Yunka Digital authorises Kamibot to resell the Steam Wallet and Windows 11 keys "
    "it supplies.\n"
).encode()
"""The authorisation document (授权书) the vendor's batches come with: its SHA-256 is recorded."""
DEMO_SUPPLY = {
    "STEAM-CN-50": DemoSupply(DEMO_VENDOR, 4500),
    "WIN11-PRO": DemoSupply(DEMO_VENDOR, 5600),
    "GENSHIN-60": DemoSupply(HOUSE_SUPPLIER, 450),
    "IQIYI-VIP-1M": DemoSupply(HOUSE_SUPPLIER, 1500),
    "BILI-VIP-1M": DemoSupply(HOUSE_SUPPLIER, 1100),
}
"""Who supplies each demo product, at what cost: two suppliers, one of them signing."""
DEMO_VENDOR_DEPOSIT = 50_000
"""The vendor's quality deposit (质量保证金): ¥500.00, which answers for its bad keys."""


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
    env.setdefault("TRACE_ORIGIN", DEMO_ORIGIN)
    env.setdefault("TRACE_CHECKPOINT_FILE", str(DATA / "checkpoints.txt"))
    if "TRACE_SIGNING_KEY" not in env:  # the log's key, kept apart from the database, as a secret
        signing_file = DATA / "trace_signing_key"
        if not signing_file.exists():
            DATA.mkdir(parents=True, exist_ok=True)
            signing_file.write_text(f"{Signer.generate(env['TRACE_ORIGIN'])}\n")
            signing_file.chmod(0o600)
        env["TRACE_SIGNING_KEY"] = signing_file.read_text().strip()
    return env


def _fake_key(sku: str) -> str:
    alphabet = string.ascii_uppercase + string.digits
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return f"{sku.split('-')[0]}-" + "-".join(groups)


async def add_demo_vendor(uow: NewUnitOfWork) -> None:
    """The upstream vendor beside the house, with its public key and its quality deposit,
    unless it is there already (the deposit's idempotency key pays it once)."""
    now = SystemClock().now()
    if DEMO_VENDOR not in {supplier.id for supplier in await list_suppliers(uow)}:
        public = Ed25519PrivateKey.from_private_bytes(DEMO_VENDOR_SEED).public_key()
        await add_supplier(
            uow,
            id=DEMO_VENDOR,
            name="Yunka Digital Co. (demo)",
            public_name="云卡数码 Yunka Digital",
            contact="@yunka_sales (demo)",
            public_key=public.public_bytes_raw().hex(),
            actor="demo",
            now=now,
        )
    await pay_deposit(
        uow,
        supplier_id=DEMO_VENDOR,
        amount_minor=DEMO_VENDOR_DEPOSIT,
        reason="quality deposit (demo)",
        idempotency_key="demo-deposit",
        actor="demo",
        now=now,
    )


def vendor_signature(keys: list[str]) -> bytes:
    """What the vendor sends with a batch: its signature over the batch's manifest."""
    private = Ed25519PrivateKey.from_private_bytes(DEMO_VENDOR_SEED)
    return private.sign(signed_message(manifest(keys)))


async def stock_demo_shop(settings: Settings) -> None:
    """Load the demo catalog, add the vendor, and top every product up to DEMO_STOCK keys, each
    batch from its supplier (DEMO_SUPPLY) at its cost, the vendor's signed."""
    engine = await open_database(settings)
    uow = UnitOfWorkFactory(engine, supplier_rules(settings))
    cipher = CardKeyCipher(settings.card_key_secrets())
    try:
        spec = parse_catalog(CATALOG.read_text(encoding="utf-8"))
        await load_catalog(
            uow(),
            spec=spec,
            star_value_minor=settings.STAR_VALUE_MINOR,
            default_order_limit=settings.DEFAULT_ORDER_LIMIT,
        )
        await add_demo_vendor(uow)
        for level in await stock_status(uow()):
            missing = DEMO_STOCK - level.available
            if missing > 0:
                lines = "\n".join(_fake_key(level.sku) for _ in range(missing)).encode()
                parsed = parse_key_file("demo.txt", lines)
                supply = DEMO_SUPPLY.get(level.sku, DemoSupply(HOUSE_SUPPLIER, 0))
                signs = supply.supplier == DEMO_VENDOR
                await import_card_keys(
                    uow,
                    sku=level.sku,
                    parsed=parsed,
                    source="demo stock",
                    cipher=cipher,
                    now=SystemClock().now(),
                    all_or_nothing=False,
                    supplier_id=supply.supplier,
                    cost_minor=supply.cost_minor,
                    proof=DEMO_AUTHORISATION if signs else None,
                    signature=vendor_signature([k.key for k in parsed.keys]) if signs else None,
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
