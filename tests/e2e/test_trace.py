"""A buyer traces the key they bought and verifies its receipt offline, on both runtimes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import KamibotApp, open_database
from bot.demo import DEMO_VENDOR, DEMO_VENDOR_DEPOSIT, demo_environment, stock_demo_shop
from config.settings import load_settings
from sandbox import Sandbox
from store.adapters.tables import card_keys
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.provenance import KeyTrace
from store.domain.signed_note import Signer
from store.domain.supplier import HOUSE_SUPPLIER
from store.services.books import supplier_money
from store.services.provenance import trace_key
from store.services.supplier import list_suppliers
from tests.conftest import FakeClock
from tests.e2e.conftest import running_shop
from tests.e2e.test_storefront import open_order, pay_with_stars

ROOT = Path(__file__).parents[2]
ORIGIN = "kamibot.e2e/log"
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
SIGNER = Signer.generate(ORIGIN)


@pytest.fixture(params=["aiogram", "ptb"])
async def signing_shop(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[KamibotApp]:
    """The e2e shop (STEAM-50, 3 keys) with a transparency-log signing key."""
    signing = {"TRACE_SIGNING_KEY": str(SIGNER), "TRACE_ORIGIN": ORIGIN}
    async with running_shop(request.param, sandbox, tmp_path, clock, signing) as app:
        yield app


def bot_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot …` in a process of its own, with only the environment given."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def published_vkey() -> str:
    """What the shop publishes as its verifier key: `python -m bot trace pubkey`."""
    shop = {"TRACE_SIGNING_KEY": str(SIGNER), "TRACE_ORIGIN": ORIGIN}
    printed = bot_cli("trace", "pubkey", env=shop)
    assert printed.returncode == 0, printed.stderr
    return printed.stdout.strip()


def verify(receipt: Path, vkey: str, key: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot trace verify`, as a buyer runs it: no database, no settings."""
    return bot_cli("trace", "verify", str(receipt), "--vkey", vkey, "--key", key)


async def test_a_buyer_sees_the_trace_code_traces_it_and_verifies_the_receipt_offline(
    sandbox: Sandbox, signing_shop: KamibotApp, tmp_path: Path
) -> None:
    buyer = sandbox.user(1003)
    await pay_with_stars(buyer, await open_order(buyer, stock="3 in stock"))
    ready = await buyer.wait_for_text("ready for order")
    await buyer.press("🔑 Show keys", ready)
    shown = await buyer.wait_for_text("STEAM-50-000000")
    [code] = CODE.findall(shown["text"] or "")
    assert f"Trace code {code}" in (shown["text"] or "")

    await buyer.send_text(f"/trace {code}")
    card = await buyer.wait_for_text(f"Trace code {code}")
    assert "Sold once" in (card["text"] or "") and "This key is yours" in (card["text"] or "")
    await buyer.press("📜 Receipt", card)
    sent = await buyer.wait_for(
        lambda messages: [m for m in messages if (m.get("document") or {}).get("file_name")]
    )
    [message] = [m for m in sent if m["document"]]
    assert message["document"]["file_name"] == f"receipt-{code}.txt"
    assert "trace verify" in (message["text"] or "")
    receipt = tmp_path / "receipt.txt"
    receipt.write_bytes(message["document"]["content"])

    vkey = published_vkey()
    assert vkey == str(SIGNER.verifier) and vkey in (message["text"] or "")
    good = verify(receipt, vkey, "STEAM-50-000000")
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"of {code} (STEAM-50)" in good.stdout and "the card key matches" in good.stdout
    other_key = verify(receipt, vkey, "STEAM-50-000001")
    assert other_key.returncode == 1 and "REFUSED" in other_key.stdout
    forged = tmp_path / "forged.txt"
    forged.write_text(receipt.read_text().replace("index ", "index 1", 1))
    assert verify(forged, vkey, "STEAM-50-000000").returncode == 1
    assert not sandbox.refused, sandbox.refused


async def test_the_demo_has_a_house_and_a_vendor_whose_batches_are_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # what `make demo` sets up in a fresh clone, under ./data
    settings = load_settings(demo_environment({}), env_file=None)
    assert settings.TRACE_SIGNING_KEY is not None
    await stock_demo_shop(settings)
    await stock_demo_shop(settings)  # a second start changes nothing
    engine = await open_database(settings)
    try:
        uow = UnitOfWorkFactory(engine)
        suppliers = {s.id: s for s in await list_suppliers(uow)}
        assert set(suppliers) == {HOUSE_SUPPLIER, DEMO_VENDOR}
        assert suppliers[DEMO_VENDOR].public_key is not None
        async with uow().reading() as tx:
            money = await supplier_money(tx, DEMO_VENDOR)
        assert money.deposit_minor == DEMO_VENDOR_DEPOSIT  # paid once, though set up twice
        traced: dict[str, KeyTrace | None] = {}
        for sku in ("STEAM-CN-50", "GENSHIN-60"):
            async with engine.connect() as connection:
                query = select(card_keys.c.trace_code).where(card_keys.c.sku == sku).limit(1)
                code = (await connection.execute(query)).scalar_one()
            traced[sku] = await trace_key(uow, code=code, viewer_id=None)
    finally:
        await engine.dispose()
    vendor, house = traced["STEAM-CN-50"], traced["GENSHIN-60"]
    assert vendor is not None and house is not None
    assert (vendor.supplier_public_name, vendor.signed, vendor.has_proof) == (
        "云卡数码 Yunka Digital",
        True,
        True,
    )
    assert (house.signed, house.has_proof, house.sold_times) == (False, False, 0)
