"""`python -m bot …`: run the bot, the demo, and the admin commands (catalog, stock, wallet, db)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import errno
import html
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import TextIO

from bot.app import KamibotApp, open_database, until_interrupted, with_database
from bot.money_cli import add_book_commands, add_supplier_money_commands, execute_money
from bot.trace_cli import add_trace_commands, execute_trace
from config.settings import Settings, SettingsError, load_settings
from faq.knowledge import DEFAULT_DIRECTORY, KnowledgeBaseError, load_knowledge_base
from handlers.agent import stats_text
from handlers.text import shorten
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import DatabaseUnavailable
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.batch_manifest import manifest, signed_message
from store.domain.clock import SystemClock, as_utc
from store.domain.errors import ImportRefused, ShopError, UnknownSku
from store.domain.model import Language
from store.domain.money import format_money
from store.domain.sales import start_of_day
from store.domain.shop_time import ShopTime
from store.domain.stock import StockState
from store.domain.supplier import HOUSE_SUPPLIER, SupplierRefused
from store.formats.catalog_file import CatalogFileError, parse_catalog
from store.formats.key_file import KeyFileError, parse_key_file
from store.services.catalog import load_catalog
from store.services.question import faq_feedback, support_stats
from store.services.rotation import Rotated, rotate_passphrases
from store.services.stock import ImportSummary, import_card_keys, stock_status
from store.services.supplier import (
    FrozenStock,
    add_supplier,
    list_suppliers,
    reinstate_supplier,
    supplier_report,
    suspend_supplier,
)
from store.services.wallet import credit_wallet, knows_user

DEMO_PORT = 8080


class CommandError(Exception):
    """A refusal to print as one line, exit code 1."""


ONE_LINE_ERRORS = (SettingsError, CommandError, ShopError, KnowledgeBaseError, DatabaseUnavailable)
"""What stops a command with one line, `error: …`, and exit status 1: never a traceback."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Kamibot, a card-key shop in Telegram"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the demo's shop: its database and card-key secret under ./data/ (make demo)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot by long polling")
    run.add_argument("--runtime", choices=["aiogram", "ptb"], default="aiogram")
    demo = commands.add_parser("demo", help="run the shop against the local Telegram sandbox")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=DEMO_PORT)
    demo.add_argument("--runtime", choices=["aiogram", "ptb"], default="aiogram")
    catalog = commands.add_parser("catalog", help="catalog admin").add_subparsers(
        dest="action", required=True
    )
    catalog.add_parser("load", help="create or update the catalog from a YAML file").add_argument(
        "file", type=Path
    )
    stock = commands.add_parser("stock", help="stock admin").add_subparsers(
        dest="action", required=True
    )
    importing = stock.add_parser(
        "import", help="import card keys (.txt one per line, or .csv with a key column)"
    )
    importing.add_argument("sku")
    importing.add_argument("file", type=Path)
    importing.add_argument(
        "--partial", action="store_true", help="import the good lines even if some are refused"
    )
    importing.add_argument(
        "--supplier", default=HOUSE_SUPPLIER, help="the supplier of the keys (default: house)"
    )
    importing.add_argument(
        "--cost", type=int, help="the supplier's cost per key in minor units (4200 = ¥42.00)"
    )
    importing.add_argument("--proof", type=Path, help="the authorisation document (PDF, image)")
    importing.add_argument(
        "--manifest-signature",
        type=Path,
        help="the supplier's Ed25519 signature of the manifest (64 bytes, raw or base64)",
    )
    stock.add_parser("status", help="stock per product")
    supplier = commands.add_parser("supplier", help="suppliers").add_subparsers(
        dest="action", required=True
    )
    adding = supplier.add_parser("add", help="add a supplier")
    adding.add_argument("id", help="1-32 of a-z, 0-9, _ and -")
    adding.add_argument("--name", required=True, help="the shop's name for it (admins only)")
    adding.add_argument("--public-name", help="what a buyer tracing a key reads (default: name)")
    adding.add_argument("--contact", default="")
    adding.add_argument("--public-key", help="its Ed25519 public key: 64 hex digits or base64")
    supplier.add_parser("list", help="every supplier and its status")
    suspending = supplier.add_parser("suspend", help="cut a supplier off: its stock is frozen")
    suspending.add_argument("id")
    suspending.add_argument("--reason", required=True)
    reinstating = supplier.add_parser("reinstate", help="lift a supplier's suspension")
    reinstating.add_argument("id")
    reinstating.add_argument("--reason", required=True)
    reinstating.add_argument(
        "--frozen",
        required=True,
        choices=[choice.value for choice in FrozenStock],
        help="its frozen keys: back on sale (release) or never sold (write-off)",
    )
    supplier.add_parser("show", help="a supplier's stock and standing").add_argument("id")
    add_supplier_money_commands(supplier)
    supplier.add_parser(
        "manifest", help="a key file's manifest, which a signing supplier signs"
    ).add_argument("file", type=Path)
    keys = commands.add_parser("keys", help="card-key passphrases").add_subparsers(
        dest="action", required=True
    )
    keys.add_parser(
        "rotate",
        help="re-encrypt card keys and support text under the newest CARD_KEY_SECRET passphrase",
    )
    wallet = commands.add_parser("wallet", help="wallet admin").add_subparsers(
        dest="action", required=True
    )
    credit = wallet.add_parser(
        "credit", help="credit a wallet for a payment taken outside Telegram"
    )
    credit.add_argument("user_id", type=int)
    credit.add_argument(
        "amount", help="in the shop currency, e.g. 25.00 (negative corrects a mistake)"
    )
    credit.add_argument("--reason", required=True)
    credit.add_argument(
        "--key", required=True, help="idempotency key, e.g. the bank transfer reference"
    )
    support = commands.add_parser("support", help="support figures")
    support_actions = support.add_subparsers(dest="action", required=True)
    figures = support_actions.add_parser("stats", help="today's tickets, containment, waits, CSAT")
    figures.add_argument(
        "--since",
        help="ISO date or time (UTC unless it has an offset); default: today in SHOP_TIMEZONE",
    )
    add_trace_commands(commands)
    add_book_commands(commands)
    db = commands.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply migrations")
    return parser


def to_minor(amount: str) -> int:
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise CommandError(f"amount {amount!r} is not a number") from None
    minor = value * 100
    if minor != minor.to_integral_value():
        raise CommandError(f"amount {amount!r} has more than two decimals")
    return int(minor)


def _progress(out: TextIO) -> Callable[[int, int], None]:
    """A bar redrawn in place on a terminal; elsewhere (a pipe, a log) only the last line."""
    interactive = out.isatty()

    def show(done: int, total: int) -> None:
        if not interactive and done != total:
            return
        width = 30
        filled = width * done // max(total, 1)
        out.write(f"\rencrypting [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            out.write("\n")
        out.flush()

    return show


REFUSALS_PRINTED = 50
"""Refused lines listed one by one; the rest are counted, and the summary by reason follows."""


def print_import_summary(summary: ImportSummary, out: TextIO, *, refused_whole: bool) -> None:
    for refusal in summary.refused[:REFUSALS_PRINTED]:
        out.write(f"line {refusal.line}: refused: {refusal.reason}\n")
    if len(summary.refused) > REFUSALS_PRINTED:
        out.write(f"… and {len(summary.refused) - REFUSALS_PRINTED} more refused lines\n")
    out.write(f"imported: {summary.imported}\n")
    out.write(f"refused: {len(summary.refused)}\n")
    for reason, count in sorted(summary.refused_by_reason.items()):
        out.write(f"  {reason}: {count}\n")
    if refused_whole and summary.suspension is None:
        out.write("nothing was imported (all-or-nothing; use --partial to import the good lines)\n")
    if summary.fulfilled_orders:
        out.write(f"orders now delivered from this stock: {len(summary.fulfilled_orders)}\n")
    if summary.waiting:
        out.write(
            f"batch {summary.batch_id} waits, not on sale: the supplier's deposit is below "
            "SUPPLIER_MIN_DEPOSIT; it goes on sale once topped up\n"
        )
    if summary.suspension is not None:
        out.write(
            f"supplier {summary.suspension.supplier_id} is suspended for this resale attempt; "
            f"{summary.suspension.frozen} unsold key(s) frozen\n"
        )


async def cmd_catalog_load(settings: Settings, path: Path, out: TextIO) -> int:
    try:
        spec = parse_catalog(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: cannot read: {error}") from None
    except CatalogFileError as error:
        raise CommandError(f"{path}: {error}") from None

    async def work(uow: UnitOfWorkFactory) -> int:
        summary = await load_catalog(
            uow(),
            spec=spec,
            star_value_minor=settings.STAR_VALUE_MINOR,
            default_order_limit=settings.DEFAULT_ORDER_LIMIT,
        )
        out.write(
            f"catalog loaded: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged\n"
        )
        return 0

    return await with_database(settings, work)


async def cmd_stock_import(
    settings: Settings,
    sku: str,
    path: Path,
    partial: bool,
    out: TextIO,
    *,
    supplier: str = HOUSE_SUPPLIER,
    origin: Origin | None = None,
) -> int:
    origin = origin or Origin()
    try:
        content = await asyncio.to_thread(path.read_bytes)
        parsed = parse_key_file(path.name, content)
    except OSError as error:
        raise CommandError(f"{path}: cannot read: {error}") from None
    except KeyFileError as error:
        raise CommandError(f"{path}: {error}") from None
    cipher = CardKeyCipher(settings.card_key_secrets())

    async def work(uow: UnitOfWorkFactory) -> int:
        try:
            summary = await import_card_keys(
                uow,
                sku=sku,
                parsed=parsed,
                source=path.name,
                cipher=cipher,
                now=SystemClock().now(),
                all_or_nothing=not partial,
                progress=_progress(sys.stderr),
                supplier_id=supplier,
                cost_minor=origin.cost_minor,
                proof=origin.proof,
                signature=origin.signature,
            )
        except SupplierRefused as refusal:
            raise CommandError(str(refusal)) from None
        except UnknownSku as unknown:
            nearest = f" (nearest: {', '.join(unknown.nearest)})" if unknown.nearest else ""
            raise CommandError(
                f"no product with SKU {sku!r}{nearest}; is the catalog loaded?"
            ) from None
        except ImportRefused as refusal:
            assert isinstance(refusal.summary, ImportSummary)
            print_import_summary(refusal.summary, out, refused_whole=True)
            return 1
        print_import_summary(summary, out, refused_whole=False)
        return 0

    return await with_database(settings, work)


@dataclass(frozen=True)
class Origin:
    """What an import says of where its keys came from: cost, authorisation, signature."""

    cost_minor: int | None = None
    proof: bytes | None = None
    signature: bytes | None = None


def read_origin(cost: int | None, proof: Path | None, signature: Path | None) -> Origin:
    """The import's --cost, --proof and --manifest-signature, read and checked."""

    def read(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read: {error}") from None

    signed = read(signature) if signature else None
    if signed is not None and len(signed) != 64:
        try:
            signed = base64.b64decode(signed.strip(), validate=True)
        except (ValueError, binascii.Error):
            raise CommandError(f"{signature}: not a signature (64 bytes, raw or base64)") from None
    return Origin(cost, read(proof) if proof else None, signed)


def cmd_supplier_manifest(path: Path, out: TextIO) -> int:
    try:
        parsed = parse_key_file(path.name, path.read_bytes())
    except OSError as error:
        raise CommandError(f"{path}: cannot read: {error}") from None
    except KeyFileError as error:
        raise CommandError(f"{path}: {error}") from None
    digest = manifest(line.key for line in parsed.keys)
    out.write(f"manifest {digest.hex()} ({len(parsed.keys)} keys)\n")
    out.write(f"sign these bytes with Ed25519: {signed_message(digest)!r}\n")
    return 0


async def cmd_supplier_add(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async def work(uow: UnitOfWorkFactory) -> int:
        try:
            added = await add_supplier(
                uow,
                id=args.id,
                name=args.name,
                public_name=args.public_name,
                contact=args.contact,
                public_key=args.public_key,
                actor="cli",
                now=SystemClock().now(),
            )
        except SupplierRefused as refusal:
            raise CommandError(str(refusal)) from None
        signed = "; its batches must be signed" if added.public_key else ""
        out.write(f"Added supplier {added.id} ({added.public_name}){signed}.\n")
        return 0

    return await with_database(settings, work)


async def cmd_supplier_list(settings: Settings, out: TextIO) -> int:
    async def work(uow: UnitOfWorkFactory) -> int:
        for each in await list_suppliers(uow):
            key = "signed batches" if each.public_key else "unsigned"
            out.write(f"{each.id:<16} {each.status.value:<10} {key:<15} {each.public_name}\n")
        return 0

    return await with_database(settings, work)


async def cmd_supplier_show(settings: Settings, supplier: str, out: TextIO) -> int:
    async def work(uow: UnitOfWorkFactory) -> int:
        try:
            report = await supplier_report(uow, id=supplier, now=SystemClock().now())
        except SupplierRefused as refusal:
            raise CommandError(str(refusal)) from None
        shown = report.supplier
        out.write(f"{shown.id}: {shown.name} (public: {shown.public_name}), {shown.status.value}\n")
        if shown.contact:
            out.write(f"  contact: {shown.contact}\n")
        out.write("Stock by product (available / held / sold / bad):\n")
        for line in report.stock or []:
            out.write(
                f"  {line.sku:<20} {line.available} / {line.held} / {line.sold} / {line.bad}\n"
            )
        if not report.stock:
            out.write("  none imported yet\n")
        if report.frozen:
            out.write(f"  frozen (not for sale while suspended): {report.frozen}\n")
        standing = report.standing
        rate = "n/a" if standing.invalid_rate is None else f"{standing.invalid_rate:.1%}"
        out.write(
            f"Last {report.window_days} days: sold {standing.sold}, confirmed bad "
            f"{standing.bad}, invalid rate {rate}\n"
        )
        money = partial(format_money, currency=settings.SHOP_CURRENCY)
        out.write(
            f"Money: deposit {money(report.deposit_minor)}, escrow held "
            f"{money(report.escrow_minor)}, payable {money(report.payable_minor)}, "
            f"paid out {money(report.paid_out_minor)}\n"
        )
        out.write("Standing:\n")
        for event in report.events:
            out.write(
                f"  {event.at:%Y-%m-%d %H:%M} UTC  {event.status.value}  {event.reason}"
                f"  (by {event.actor})\n"
            )
        return 0

    return await with_database(settings, work)


async def cmd_supplier_suspend(settings: Settings, supplier: str, reason: str, out: TextIO) -> int:
    async def work(uow: UnitOfWorkFactory) -> int:
        try:
            suspension = await suspend_supplier(
                uow, id=supplier, reason=reason, actor="cli", now=SystemClock().now()
            )
        except SupplierRefused as refusal:
            raise CommandError(str(refusal)) from None
        out.write(f"Suspended supplier {supplier}: {suspension.frozen} unsold key(s) frozen.\n")
        return 0

    return await with_database(settings, work)


async def cmd_supplier_reinstate(
    settings: Settings, supplier: str, reason: str, frozen: FrozenStock, out: TextIO
) -> int:
    async def work(uow: UnitOfWorkFactory) -> int:
        try:
            done = await reinstate_supplier(
                uow,
                id=supplier,
                reason=reason,
                frozen=frozen,
                actor="cli",
                now=SystemClock().now(),
            )
        except SupplierRefused as refusal:
            raise CommandError(str(refusal)) from None
        settled = "released back on sale" if frozen is FrozenStock.RELEASE else "written off"
        out.write(f"Reinstated supplier {supplier}: {done.settled} frozen key(s) {settled}.\n")
        return 0

    return await with_database(settings, work)


NAME_WIDTH = 40
"""Longer names are cut between words."""
STATE_SHOWN = {StockState.IN_STOCK: "", StockState.LOW: "LOW", StockState.OUT: "OUT"}


async def cmd_stock_status(settings: Settings, out: TextIO) -> int:
    async def work(uow: UnitOfWorkFactory) -> int:
        levels = await stock_status(uow())
        names = [shorten(level.name_en, NAME_WIDTH, whole_words=True) for level in levels]
        width = max([len("name"), *map(len, names)])
        out.write(
            f"{'SKU':<24} {'name':<{width}} {'stocked':>7} = {'available':>9} + {'held':>4}"
            f" + {'sold':>4} + {'bad':>4}  {'refunded':>8}  state\n"
        )
        for level, name in zip(levels, names, strict=True):
            state = STATE_SHOWN[level.state]
            out.write(
                f"{level.sku:<24} {name:<{width}} {level.stocked:>7} = {level.available:>9} + "
                f"{level.reserved:>4} + {level.sold:>4} + {level.bad:>4}  {level.returned:>8}"
                f"  {state}".rstrip()
                + "\n"
            )
        if levels:
            out.write("refunded: of the available, the keys back on sale after a refund\n")
        return 0

    return await with_database(settings, work)


async def cmd_keys_rotate(settings: Settings, out: TextIO) -> int:
    """Everything under the newest passphrase, so the older ones can be dropped from the
    setting; exit code 1 while anything is left that none of the passphrases reads."""
    secrets = settings.card_key_secrets()
    cipher, newest = CardKeyCipher(secrets), CardKeyCipher(secrets[:1])

    def show(rotated: Rotated) -> None:
        out.write(rotated.line() + "\n")
        out.flush()  # a line as each table is done: a big shop takes a while

    async def work(uow: UnitOfWorkFactory) -> int:
        rotated = await rotate_passphrases(uow, cipher=cipher, newest=newest, report=show)
        if any(r.unreadable for r in rotated):
            out.write(
                "some rows are sealed under none of the passphrases given: "
                "keep the passphrase that reads them\n"
            )
            return 1
        return 0

    return await with_database(settings, work)


async def cmd_wallet_credit(
    settings: Settings, user_id: int, amount: str, reason: str, key: str, out: TextIO
) -> int:
    minor = to_minor(amount)

    async def work(uow: UnitOfWorkFactory) -> int:
        known = await knows_user(uow(), user_id=user_id)
        wallet, written = await credit_wallet(
            uow(),
            user_id=user_id,
            amount_minor=minor,
            reason=reason,
            idempotency_key=key,
            now=SystemClock().now(),
            tell_buyer=True,
        )
        if not known:
            sys.stderr.write(
                f"warning: user {user_id} has never used the bot: check the id; they are not"
                " told in chat until they start it\n"
            )
        state = "credited" if written else "already credited under that key; nothing changed"
        told = "; told in chat" if written and known and minor > 0 else ""
        out.write(
            f"user {user_id}: {state}; "
            f"balance {format_money(wallet.balance_minor, settings.SHOP_CURRENCY)}{told}\n"
        )
        return 0

    return await with_database(settings, work)


async def cmd_support_stats(settings: Settings, since: str | None, out: TextIO) -> int:
    start = start_of_day(ShopTime(zone=settings.SHOP_TIMEZONE), SystemClock().now())
    heading = None
    if since:
        try:
            # A time written without an offset is UTC; one with an offset means that moment.
            start = as_utc(datetime.fromisoformat(since)).astimezone(UTC)
        except ValueError:
            raise CommandError(f"--since {since!r} is not an ISO date or time") from None
        heading = f"{start:%Y-%m-%d %H:%M} UTC"

    async def work(uow: UnitOfWorkFactory) -> int:
        stats = await support_stats(uow(), since=start)
        out.write(html_to_plain(stats_text(Language.EN, stats, since=heading)) + "\n")
        feedback = await faq_feedback(uow())
        if feedback:  # which FAQ entries need work: least helpful first
            out.write("FAQ feedback (helpful / not):\n")
            for entry, yes, no in sorted(feedback, key=lambda row: (row[1] - row[2], row[0])):
                out.write(f"  {entry}: {yes} / {no}\n")
        return 0

    return await with_database(settings, work)


def html_to_plain(text: str) -> str:
    """A message's HTML as a terminal shows it: without tags, entities read (`&amp;` is `&`)."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", text))


async def cmd_db_upgrade(settings: Settings, out: TextIO) -> int:
    engine = await open_database(settings)
    await engine.dispose()
    out.write("database is at the newest schema\n")
    return 0


async def cmd_run(settings: Settings, runtime: str) -> int:
    app = KamibotApp(settings, runtime="ptb" if runtime == "ptb" else "aiogram")
    await app.start()
    await until_interrupted()
    await app.stop()
    return 0


async def execute(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    match (args.command, getattr(args, "action", None)):
        case ("run", _):
            return await cmd_run(settings, args.runtime)
        case ("demo", _):
            from bot.demo import run_demo

            try:
                return await run_demo(
                    settings, host=args.host, port=args.port, runtime=args.runtime
                )
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                raise CommandError(
                    f"port {args.port} on {args.host} is already in use; choose another: "
                    f"make demo PORT={args.port + 1} (or python -m bot demo --port {args.port + 1})"
                ) from None
        case ("catalog", "load"):
            return await cmd_catalog_load(settings, args.file, out)
        case ("stock", "import"):
            return await cmd_stock_import(
                settings,
                args.sku,
                args.file,
                args.partial,
                out,
                supplier=args.supplier,
                origin=read_origin(args.cost, args.proof, args.manifest_signature),
            )
        case ("supplier", "manifest"):
            return cmd_supplier_manifest(args.file, out)
        case ("supplier", "add"):
            return await cmd_supplier_add(settings, args, out)
        case ("supplier", "list"):
            return await cmd_supplier_list(settings, out)
        case ("supplier", "show"):
            return await cmd_supplier_show(settings, args.id, out)
        case ("supplier", "suspend"):
            return await cmd_supplier_suspend(settings, args.id, args.reason, out)
        case ("supplier", "reinstate"):
            return await cmd_supplier_reinstate(
                settings, args.id, args.reason, FrozenStock(args.frozen), out
            )
        case ("stock", "status"):
            return await cmd_stock_status(settings, out)
        case ("keys", "rotate"):
            return await cmd_keys_rotate(settings, out)
        case ("wallet", "credit"):
            return await cmd_wallet_credit(
                settings, args.user_id, args.amount, args.reason, args.key, out
            )
        case ("support", "stats"):
            return await cmd_support_stats(settings, args.since, out)
        case ("db", "upgrade"):
            return await cmd_db_upgrade(settings, out)
        case ("trace", _):
            return await execute_trace(args, settings, out)
        case ("supplier", "deposit" | "withdraw" | "payout" | "statement") | (
            "ledger" | "escrow",
            _,
        ):
            return await execute_money(args, settings, out)
    raise CommandError("unknown command")


def check_knowledge_base(settings: Settings) -> None:
    """Refuse a broken FAQ before the bot opens anything; `KamibotApp.start` reads it again."""
    load_knowledge_base(Path(settings.FAQ_DIR) if settings.FAQ_DIR else DEFAULT_DIRECTORY)


def main(
    argv: Sequence[str] | None = None,
    environ: dict[str, str] | None = None,
    out: TextIO = sys.stdout,
) -> int:
    args = _parser().parse_args(argv)
    environment = dict(os.environ if environ is None else environ)
    try:
        if args.command == "demo" or args.demo:
            from bot.demo import demo_environment

            environment = demo_environment(environment)
        settings = load_settings(environment)
        logging.basicConfig(
            level=settings.LOG_LEVEL, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)
        if args.command in ("run", "demo"):
            settings.token()  # refuse what is missing before the bot opens anything
            settings.card_key_secrets()
            check_knowledge_base(settings)
        return asyncio.run(execute(args, settings, out))
    except ONE_LINE_ERRORS as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    except KeyboardInterrupt:
        return 130
