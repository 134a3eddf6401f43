"""The suppliers' money and the books from the command line: deposits once per key, a
statement line by line, escrow settled on a scripted clock, and `ledger check` naming a
transaction edited behind the shop's back."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store.adapters.database import create_engine
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.order import HoldRules
from store.services.order import reserve_keys
from store.services.payment import pay_with_wallet
from store.services.wallet import credit_wallet
from tests.db.test_cli import CATALOG, run

BUYER = 1001


def _stocked(environ: dict[str, str], tmp_path: Path) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    run(environ, "supplier", "add", "acme", "--name", "Acme")
    keys = tmp_path / "acme.txt"
    keys.write_text("ACME-1\nACME-2\n", encoding="utf-8")
    code, said = run(
        environ, "stock", "import", "STEAM-CN-50", str(keys), "--supplier", "acme", "--cost", "4000"
    )
    assert code == 0, said


def _buy_one(environ: dict[str, str]) -> None:
    """A buyer pays one key from the wallet, through the services, on the CLI's database."""

    async def buy() -> None:
        engine = create_engine(environ["DATABASE_URL"])
        uow = UnitOfWorkFactory(engine)
        now = datetime.now(UTC)
        try:
            await credit_wallet(
                uow(),
                user_id=BUYER,
                amount_minor=4800,
                reason="cash",
                idempotency_key="cash-1",
                now=now,
            )
            reservation = await reserve_keys(
                uow(),
                user_id=BUYER,
                first_name="Li",
                sku="STEAM-CN-50",
                quantity=1,
                now=now,
                rules=HoldRules(),
            )
            await pay_with_wallet(
                uow(), user_id=BUYER, order_id=reservation.order.id, now=now, rules=HoldRules()
            )
        finally:
            await engine.dispose()

    asyncio.run(buy())


def _sqlite_path(environ: dict[str, str]) -> str:
    return environ["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")


def test_a_deposit_is_recorded_once_per_key_and_shown_with_the_supplier(
    environ: dict[str, str], tmp_path: Path
) -> None:
    _stocked(environ, tmp_path)
    deposit = ("supplier", "deposit", "acme", "50000", "--reason", "保证金", "--key", "bank-7")
    code, said = run(environ, *deposit)
    assert code == 0 and said.startswith("Deposit of acme recorded. deposit ¥500.00")
    code, said = run(environ, *deposit)
    assert code == 0 and said.startswith("already recorded under this key")
    too_much = ("supplier", "withdraw", "acme", "60000", "--reason", "back", "--key", "w-1")
    assert run(environ, *too_much)[0] == 1
    shown = run(environ, "supplier", "show", "acme")[1]
    assert "Money: deposit ¥500.00, escrow held ¥0.00" in shown
    assert run(environ, "ledger", "check") == (0, "the books balance\n")


def test_escrow_settles_on_a_scripted_clock_and_the_statement_shows_each_step(
    environ: dict[str, str], tmp_path: Path
) -> None:
    _stocked(environ, tmp_path)
    _buy_one(environ)
    assert "settled the escrow of 0 sold key(s)" in run(environ, "escrow", "settle")[1]
    later = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    assert (
        "settled the escrow of 1 sold key(s)" in run(environ, "escrow", "settle", "--at", later)[1]
    )
    assert (
        "settled the escrow of 0 sold key(s)" in run(environ, "escrow", "settle", "--at", later)[1]
    )
    code, listed = run(environ, "supplier", "statement", "acme", "--csv")
    rows = [line.split(",") for line in listed.splitlines()]
    assert code == 0 and rows[0][:4] == ["time", "kind", "account", "amount_minor"]
    assert [row[1:4] for row in rows[1:]] == [
        ["held", "escrow", "4000"],
        ["released", "escrow", "-4000"],
        ["released", "payable", "4000"],
    ]
    assert run(environ, "supplier", "payout", "acme", "4000", "--reference", "tx-1")[0] == 0
    shown = run(environ, "supplier", "statement", "acme")[1]
    assert "paid out ¥40.00" in shown and "payable ¥0.00" in shown
    assert run(environ, "ledger", "check") == (0, "the books balance\n")


def test_ledger_check_names_a_transaction_edited_in_the_database(
    environ: dict[str, str], tmp_path: Path
) -> None:
    _stocked(environ, tmp_path)
    _buy_one(environ)
    with sqlite3.connect(_sqlite_path(environ)) as db:
        db.execute("UPDATE ledger_entries SET amount_minor = 3000 WHERE account = 'escrow:acme'")
    code, said = run(environ, "ledger", "check")
    assert code == 1
    assert "transaction sale:1 does not balance: its postings sum to -1000" in said
    assert "escrow:acme is 3000 but its held keys cost 4000" in said
