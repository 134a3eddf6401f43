"""Admin commands in chat: importing card keys from a file, and stock status."""

from __future__ import annotations

from handlers.action import Action, SendText
from handlers.context import ShopContext
from handlers.event import DocumentMessage, TextMessage
from handlers.text import Markup, say, shorten
from store.domain.errors import ImportRefused, NotFound
from store.domain.model import Language
from store.formats.key_file import KeyFileError, parse_key_file
from store.services.stock import ImportSummary, import_card_keys, stock_status

MAX_IMPORT_BYTES = 20 * 1024 * 1024
"""Telegram lets bots download files up to 20 MB."""
REFUSALS_SHOWN = 20
REASONS_TOTALLED = 10
REASON_LENGTH = 80
"""A refusal's reason as shown; with the counts above, a refusal always fits one message."""
PROBLEM_LENGTH = 600
"""What is shown of why a file can't be read (its CSV header's columns can run to thousands)."""


def import_sku(caption: str) -> str | None:
    """`/import SKU` → SKU; anything else → None."""
    parts = caption.split()
    if len(parts) == 2 and parts[0].split("@")[0] == "/import":
        return parts[1]
    return None


def _refusal_lines(summary: ImportSummary) -> Markup:
    """The first refused lines and a count per reason, bounded however many lines were refused."""
    lines = [
        Markup("line {}: {}").format(r.line, shorten(r.reason, REASON_LENGTH))
        for r in summary.refused[:REFUSALS_SHOWN]
    ]
    hidden = len(summary.refused) - REFUSALS_SHOWN
    if hidden > 0:
        lines.append(Markup("… +{}").format(hidden))
    by_reason = list(summary.refused_by_reason.items())
    totals = [
        Markup("{}: {}").format(shorten(reason, REASON_LENGTH), n)
        for reason, n in by_reason[:REASONS_TOTALLED]
    ]
    if len(by_reason) > REASONS_TOTALLED:
        totals.append(Markup("… +{}").format(len(by_reason) - REASONS_TOTALLED))
    if totals:
        lines.append(Markup("({})").format(Markup(", ").join(totals)))
    return Markup("\n").join(lines)


async def on_document(event: DocumentMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """An admin's key file captioned /import SKU is imported; the reply is the summary."""
    chat = event.person.chat_id
    if not ctx.is_admin(event.person.user_id):
        return [SendText(chat, say(lang, "admin.only"))]
    sku = import_sku(event.caption)
    if sku is None:
        return [SendText(chat, say(lang, "admin.import_usage"))]
    if event.file_size > MAX_IMPORT_BYTES:
        return [SendText(chat, say(lang, "admin.import_bad_file", reason="over 20 MB"))]
    try:
        parsed = parse_key_file(event.file_name, await event.download())
    except KeyFileError as error:
        problem = shorten(str(error), PROBLEM_LENGTH)
        return [SendText(chat, say(lang, "admin.import_bad_file", reason=problem))]
    try:
        summary = await import_card_keys(
            ctx.uow,
            sku=sku,
            parsed=parsed,
            source=event.file_name,
            cipher=ctx.cipher,
            now=ctx.clock.now(),
            imported_by=event.person.user_id,
        )
    except NotFound:
        return [SendText(chat, say(lang, "error.not_found"))]
    except ImportRefused as refusal:
        refused = refusal.summary
        assert isinstance(refused, ImportSummary)
        return [
            SendText(
                chat, say(lang, "admin.import_refused", sku=sku, lines=_refusal_lines(refused))
            )
        ]
    return [
        SendText(
            chat, say(lang, "admin.import_done", imported=summary.imported, sku=sku, refused="")
        )
    ]


async def cmd_stock(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """Stock per product, for admins."""
    chat = event.person.chat_id
    if not ctx.is_admin(event.person.user_id):
        return [SendText(chat, say(lang, "admin.only"))]
    levels = await stock_status(ctx.uow())
    lines = Markup("\n").join(
        Markup("{} <code>{}</code> {} / {} / {}").format(
            "⚠️" if level.low else "•", level.sku, level.available, level.reserved, level.sold
        )
        for level in levels
    )
    heading = Markup("available / reserved / sold\n")
    return [SendText(chat, say(lang, "admin.stock", lines=heading + lines))]
