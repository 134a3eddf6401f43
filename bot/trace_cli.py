"""`python -m bot trace …`: the transparency log's key, offline receipt checks, the audit,
signing a checkpoint now, and giving keys imported before trace codes their provenance."""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from config.settings import Settings, SettingsError
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.clock import SystemClock
from store.domain.provenance import ReceiptRefused, parse_signer_setting, verify_receipt
from store.domain.signed_note import NoteError, Signer, Verifier
from store.services.ports import NewUnitOfWork
from store.services.provenance import (
    SignedCheckpoint,
    audit_log,
    backfill_provenance,
    publishable_checkpoint,
)


def add_trace_commands(commands: Any) -> None:
    """The `trace` subcommands, under the CLI's command parsers."""
    trace = commands.add_parser("trace", help="the transparency log (溯源)").add_subparsers(
        dest="action", required=True
    )
    trace.add_parser("pubkey", help="print the log's verifier key (C2SP vkey)")
    verify = trace.add_parser("verify", help="check a receipt offline, without the database")
    verify.add_argument("receipt", type=Path)
    verify.add_argument("--vkey", required=True, help="the log's verifier key, or a file of it")
    verify.add_argument("--key", help="the card key itself: check the receipt is of this key")
    audit = trace.add_parser("audit", help="recompute the log and check every checkpoint")
    audit.add_argument("--vkey", help="the verifier key (default: TRACE_SIGNING_KEY's)")
    trace.add_parser("checkpoint", help="sign a checkpoint now and publish it")
    trace.add_parser("backfill", help="give keys imported before trace codes their codes")


def trace_signer(settings: Settings) -> Signer:
    """The log's signer from TRACE_SIGNING_KEY; SettingsError naming it if unset or malformed."""
    if settings.TRACE_SIGNING_KEY is None:
        raise SettingsError("Setting TRACE_SIGNING_KEY is not set")
    try:
        signer = parse_signer_setting(
            settings.TRACE_SIGNING_KEY.get_secret_value(), settings.TRACE_ORIGIN
        )
    except NoteError as error:
        raise SettingsError(f"Setting TRACE_SIGNING_KEY is not a key: {error}") from None
    if signer.name != settings.TRACE_ORIGIN:
        raise SettingsError(
            f"Setting TRACE_SIGNING_KEY names {signer.name}, but TRACE_ORIGIN is "
            f"{settings.TRACE_ORIGIN}: checkpoints would not verify"
        )
    return signer


def optional_signer(settings: Settings) -> Signer | None:
    """The signer, or None when the shop has no TRACE_SIGNING_KEY (no checkpoints, no receipts)."""
    return trace_signer(settings) if settings.TRACE_SIGNING_KEY is not None else None


def append_checkpoint(settings: Settings, signed: SignedCheckpoint) -> None:
    """A new checkpoint goes to the end of TRACE_CHECKPOINT_FILE, if one is set."""
    if not signed.fresh or not settings.TRACE_CHECKPOINT_FILE:
        return
    path = Path(settings.TRACE_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(signed.note + "\n")


async def publish_checkpoint(
    settings: Settings, uow: NewUnitOfWork, signer: Signer, now: datetime
) -> SignedCheckpoint:
    """Sign a checkpoint if events came since the last; a new one is appended to the file and
    queued for the channel."""
    signed = await publishable_checkpoint(
        uow, signer, signer.name, now, channel=settings.TRACE_CHANNEL
    )
    append_checkpoint(settings, signed)
    return signed


def _verifier(text: str) -> Verifier:
    if os.path.isfile(text):
        text = Path(text).read_text(encoding="utf-8").strip()
    try:
        return Verifier.parse(text)
    except NoteError as error:
        raise SettingsError(f"the verifier key is not one: {error}") from None


async def _with_uow(settings: Settings, work: Callable[[UnitOfWorkFactory], Awaitable[int]]) -> int:
    from bot.app import with_database  # bot.app imports this module

    return await with_database(settings, work)


def cmd_verify(receipt: Path, vkey: str, card_key: str | None, out: TextIO) -> int:
    verifier = _verifier(vkey)
    try:
        text = receipt.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"cannot read {receipt}: {error}") from None
    try:
        verified = verify_receipt(text, verifier, card_key)
    except ReceiptRefused as error:
        out.write(f"REFUSED: {error}\n")
        return 1
    entry = verified.entry
    out.write(
        f"OK: {entry['event']} of {entry['trace']} ({entry['sku']}) at {entry['time']} is entry "
        f"{verified.index} of the {verified.tree_size} signed by {verifier.name}\n"
    )
    out.write(
        "the card key matches this entry\n"
        if verified.key_checked
        else "the card key was not checked (give --key to check it)\n"
    )
    return 0


async def execute_trace(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    match args.action:
        case "pubkey":
            out.write(f"{trace_signer(settings).verifier}\n")
            return 0
        case "verify":
            return cmd_verify(args.receipt, args.vkey, args.key, out)
        case "audit":
            verifier = _verifier(args.vkey) if args.vkey else trace_signer(settings).verifier
            return await _with_uow(settings, lambda uow: _audit(uow, verifier, out))
        case "checkpoint":
            signer = trace_signer(settings)

            async def sign(uow: UnitOfWorkFactory) -> int:
                signed = await publish_checkpoint(settings, uow, signer, SystemClock().now())
                out.write(signed.note if signed.fresh else f"no new entries\n{signed.note}")
                return 0

            return await _with_uow(settings, sign)
        case "backfill":
            cipher = CardKeyCipher(settings.card_key_secrets())

            async def backfill(uow: UnitOfWorkFactory) -> int:
                done = await backfill_provenance(uow, cipher, SystemClock().now())
                out.write(f"keys given trace codes: {done}\n")
                return 0

            return await _with_uow(settings, backfill)
    raise SettingsError(f"unknown trace command {args.action}")


async def _audit(uow: UnitOfWorkFactory, verifier: Verifier, out: TextIO) -> int:
    report = await audit_log(uow, verifier)
    for anomaly in report.anomalies:
        out.write(f"ANOMALY {anomaly}\n")
    out.write(
        f"entries: {report.size}, checkpoints checked: {report.checkpoints}, "
        f"not yet sequenced: {report.pending}, events awaiting backfill: {report.unlogged}\n"
    )
    if report.anomalies:
        out.write(f"FAILED: {len(report.anomalies)} anomalies\n")
        return 1
    out.write("OK: the log is consistent with every checkpoint\n")
    return 0
