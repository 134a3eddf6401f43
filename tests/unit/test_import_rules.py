"""The layers hold: each package imports only what the house style's table allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOP = ("bot", "handlers", "store", "faq", "config")
FRAMEWORKS = ("aiogram", "telegram")


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module a package's files import, absolute names, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in imported_modules(package).items()
        for name in sorted(names)
        if any(name == banned or name.startswith(banned + ".") for banned in forbidden)
    ]


def test_the_rule_finds_an_import_it_forbids() -> None:
    assert offenders("bot", ("sandbox",)), "bot/demo.py imports the sandbox; the walk must see it"


def test_the_sandbox_imports_no_shop_package() -> None:
    assert offenders("sandbox", SHOP) == []


@pytest.mark.parametrize("layer", ["store/domain"])
def test_the_domain_imports_neither_sqlalchemy_nor_the_services_nor_the_adapters(
    layer: str,
) -> None:
    forbidden = ("sqlalchemy", "alembic", "store.services", "store.adapters", "store.formats")
    assert offenders(layer, forbidden) == []


def test_the_domain_does_no_io() -> None:
    io = ("asyncio", "aiosqlite", "asyncpg", "aiohttp", "socket", "pathlib", "os", "logging")
    assert offenders("store/domain", io) == []


def test_the_services_reach_the_database_only_through_ports() -> None:
    assert offenders("store/services", ("sqlalchemy",)) == []


def test_the_services_import_no_adapter_nor_what_the_adapters_are_built_on() -> None:
    built_on = ("store.adapters", "cryptography", "aiosqlite", "asyncpg", "alembic")
    assert offenders("store/services", built_on) == []  # TYPE_CHECKING imports count too


def test_the_handlers_import_no_telegram_framework() -> None:
    assert offenders("handlers", (*FRAMEWORKS, "bot", "sandbox")) == []


def test_the_store_imports_neither_telegram_nor_the_conversation() -> None:
    assert offenders("store", (*FRAMEWORKS, "handlers", "bot", "sandbox")) == []


def test_the_faq_matcher_needs_no_telegram_and_no_database() -> None:
    assert offenders("faq", (*FRAMEWORKS, "sqlalchemy", "store", "handlers", "bot")) == []


FEATURES = (
    "admin",
    "after_sales",
    "agent",
    "ask",
    "flow",
    "orders",
    "payment",
    "shop",
    "start",
    "support",
    "support_outbox",
    "wallet",
)
"""Handler modules for one feature's triggers (or one kind of outbox item). What two of them
share lives in a module named for its concept (ticket, handoff, refund, screen, keyboard)."""
ENTRIES = ("handlers/router.py", "handlers/outbox.py")
"""Where events and outbox items are dispatched to the features: these import them all."""


def test_feature_handlers_import_no_other_feature_sideways() -> None:
    sideways = [
        f"{file} imports {name}"
        for file, names in imported_modules("handlers").items()
        if file not in ENTRIES
        for feature in FEATURES
        if file != f"handlers/{feature}.py"
        for name in sorted(names)
        if name == f"handlers.{feature}" or name.startswith(f"handlers.{feature}.")
    ]
    assert sideways == []


def test_the_conversation_reaches_the_store_through_services_and_the_domain_only() -> None:
    assert offenders("handlers", ("store.adapters", "sqlalchemy")) == []
