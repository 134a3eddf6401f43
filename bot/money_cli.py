"""`python -m bot supplier deposit|withdraw|payout|statement`, `ledger check` and
`escrow settle`: the suppliers' money and the books, for admins."""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.app import escrow_rules, with_database
from config.settings import Settings
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.clock import SystemClock, as_utc
from store.domain.errors import ShopError
from store.domain.money import format_money
from store.services.books import check_books, settle_escrow
from store.services.supplier_money import (
    MoneyMoved,
    pay_deposit,
    record_payout,
    statement_rows,
    supplier_statement,
    withdraw_deposit,
)

ACTOR = "admin (cli)"


class MoneyCommandError(ShopError):
    """A money command written wrong: one line, exit status 1."""


def add_supplier_money_commands(supplier: Any) -> None:
    """Under `supplier`: deposit, withdraw, payout, statement."""
    for name, text in (
        ("deposit", "record a supplier's quality deposit (质量保证金) paid in"),
        ("withdraw", "record part of a supplier's deposit paid back"),
    ):
        moving = supplier.add_parser(name, help=text)
        moving.add_argument("id")
        moving.add_argument("amount", type=int, help="minor units (50000 = ¥500.00)")
        moving.add_argument("--reason", required=True)
        moving.add_argument(
            "--key", required=True, help="idempotency key: the same key writes once"
        )
    paying = supplier.add_parser("payout", help="record a payout made to a supplier")
    paying.add_argument("id")
    paying.add_argument("amount", type=int, help="minor units")
    paying.add_argument("--reference", required=True, help="the transfer's reference (once each)")
    statement = supplier.add_parser("statement", help="held, released, charged and paid out")
    statement.add_argument("id")
    statement.add_argument("--since", help="an ISO date or time (UTC unless it says otherwise)")
    statement.add_argument("--csv", action="store_true", help="as CSV, one line per movement")


def add_book_commands(commands: Any) -> None:
    """`ledger check` and `escrow settle`."""
    ledger = commands.add_parser("ledger", help="the books").add_subparsers(
        dest="action", required=True
    )
    ledger.add_parser("check", help="every transaction balances; escrow and clearing agree")
    escrow = commands.add_parser("escrow", help="escrow (担保)").add_subparsers(
        dest="action", required=True
    )
    settling = escrow.add_parser("settle", help="release the escrow of keys out of their window")
    settling.add_argument("--at", help="settle as of this ISO time (a scripted clock)")


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(text)).astimezone(UTC)
    except ValueError:
        raise MoneyCommandError(f"{option} {text!r} is not an ISO date or time") from None


def _money_line(moved: MoneyMoved, settings: Settings, done: str) -> str:
    currency = settings.SHOP_CURRENCY
    said = done if moved.written else "already recorded under this key: nothing more written"
    published = (
        f"; {len(moved.published_batches)} waiting batch(es) now on sale"
        if moved.published_batches
        else ""
    )
    money = moved.money
    return (
        f"{said}. deposit {format_money(money.deposit_minor, currency)}, "
        f"escrow {format_money(money.escrow_minor, currency)}, "
        f"payable {format_money(money.payable_minor, currency)}, "
        f"paid out {format_money(money.paid_out_minor, currency)}{published}\n"
    )


async def execute_money(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    now = SystemClock().now()

    async def work(uow: UnitOfWorkFactory) -> int:
        match (args.command, args.action):
            case ("supplier", "deposit"):
                moved = await pay_deposit(
                    uow,
                    supplier_id=args.id,
                    amount_minor=args.amount,
                    reason=args.reason,
                    idempotency_key=args.key,
                    actor=ACTOR,
                    now=now,
                )
                out.write(_money_line(moved, settings, f"Deposit of {args.id} recorded"))
            case ("supplier", "withdraw"):
                moved = await withdraw_deposit(
                    uow,
                    supplier_id=args.id,
                    amount_minor=args.amount,
                    reason=args.reason,
                    idempotency_key=args.key,
                    actor=ACTOR,
                    now=now,
                )
                out.write(_money_line(moved, settings, f"Withdrawal for {args.id} recorded"))
            case ("supplier", "payout"):
                moved = await record_payout(
                    uow,
                    supplier_id=args.id,
                    amount_minor=args.amount,
                    reference=args.reference,
                    actor=ACTOR,
                    now=now,
                )
                out.write(_money_line(moved, settings, f"Payout to {args.id} recorded"))
            case ("supplier", "statement"):
                return await _statement(uow, args, settings, out)
            case ("ledger", "check"):
                problems = await check_books(uow())
                for problem in problems:
                    out.write(f"PROBLEM {problem}\n")
                out.write(
                    "the books balance\n" if not problems else f"FAILED: {len(problems)} problems\n"
                )
                return 1 if problems else 0
            case ("escrow", "settle"):
                at = _when(args.at, "--at") or now
                settled = await settle_escrow(uow, now=at, rules=escrow_rules(settings))
                out.write(
                    f"settled the escrow of {settled} sold key(s) as of {at:%Y-%m-%d %H:%M} UTC\n"
                )
        return 0

    return await with_database(settings, work)


async def _statement(
    uow: UnitOfWorkFactory, args: argparse.Namespace, settings: Settings, out: TextIO
) -> int:
    statement = await supplier_statement(
        uow, supplier_id=args.id, since=_when(args.since, "--since")
    )
    if args.csv:
        csv.writer(out, lineterminator="\n").writerows(statement_rows(statement))
        return 0
    currency = settings.SHOP_CURRENCY
    since = f" since {statement.since:%Y-%m-%d %H:%M} UTC" if statement.since else ""
    out.write(f"Statement of {statement.supplier_id}{since}\n")
    for line in statement.lines:
        about = " ".join(
            part
            for part in (
                f"order {line.order_reference}" if line.order_reference else "",
                f"case #{line.case_id}" if line.case_id else "",
                line.note or "",
            )
            if part
        )
        out.write(
            f"  {line.at:%Y-%m-%d %H:%M}  {line.kind:<10} {line.account:<8} "
            f"{format_money(line.amount_minor, currency):>12}  {about}\n"
        )
    money = statement.money
    out.write(
        f"held {format_money(statement.total('held'), currency)}, "
        f"released {format_money(-statement.total('released'), currency)} "
        f"(escrow to payable), charged {format_money(-statement.total('charged'), currency)}, "
        f"paid out {format_money(money.paid_out_minor, currency)}\n"
        f"now: deposit {format_money(money.deposit_minor, currency)}, escrow "
        f"{format_money(money.escrow_minor, currency)}, payable "
        f"{format_money(money.payable_minor, currency)}\n"
    )
    return 0
