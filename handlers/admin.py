"""Admin commands in chat: importing card keys from a file, and stock status."""

from __future__ import annotations

from handlers.action import Action, Button, EditText, SendText
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, DocumentMessage, TextMessage
from handlers.pending_import import PendingImport
from handlers.screen import acknowledged, refuse
from handlers.text import N_, Markup, say, say_plain, shorten
from store.domain.errors import ImportRefused, NotFound, UnknownSku
from store.domain.import_offer import ImportOfferRefused, OfferRefusal
from store.domain.model import Language, StockLevel
from store.domain.stock import StockState
from store.domain.supplier import (
    HOUSE_SUPPLIER,
    SupplierRefused,
    SupplierSuspended,
    UnknownSupplier,
)
from store.formats.key_file import KeyFileError, parse_key_file
from store.services.import_offer import offer_good_lines, take_import_offer
from store.services.stock import ImportSummary, import_card_keys, stock_status

MAX_IMPORT_BYTES = 20 * 1024 * 1024
"""Telegram lets bots download files up to 20 MB."""
REFUSALS_SHOWN = 20
REASONS_TOTALLED = 10
REASON_LENGTH = 80
"""A refusal's reason as shown; with the counts above, a refusal always fits one message."""
PROBLEM_LENGTH = 600
SKU_LENGTH = 64
"""What is shown of why a file can't be read (its CSV header's columns can run to thousands)."""


def import_caption(caption: str) -> tuple[str, str] | None:
    """`/import SKU [SUPPLIER]` → (SKU, supplier id, the house's by default); else None."""
    parts = caption.split()
    if len(parts) in (2, 3) and parts[0].split("@")[0] == "/import":
        return parts[1], parts[2].lower() if len(parts) == 3 else HOUSE_SUPPLIER
    return None


def import_sku(caption: str) -> str | None:
    """`/import SKU [SUPPLIER]` → SKU; anything else → None."""
    parsed = import_caption(caption)
    return parsed[0] if parsed else None


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
    """An admin's key file captioned /import SKU is imported; the reply is the summary, and
    a refused file with good lines offers to import those."""
    chat = event.person.chat_id
    if not ctx.is_admin(event.person.user_id):
        return [SendText(chat, say(lang, "admin.only"))]
    caption = import_caption(event.caption)
    if caption is None:
        return [SendText(chat, say(lang, "admin.import_usage"))]
    if event.file_size > MAX_IMPORT_BYTES:
        return [SendText(chat, say(lang, "admin.import_bad_file", reason="over 20 MB"))]
    sku, supplier = caption
    pending = PendingImport(
        event.person.user_id, sku, event.file_name, event.download, event.file_id, supplier
    )
    return [*await _import(pending, lang, ctx, all_or_nothing=True)]


async def on_import_good_lines_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, offer: int
) -> list[Action]:
    """The refused file again, its good lines imported and the rest skipped, as `--partial`;
    once, by the admin who sent it, before the offer expires."""
    if not ctx.is_admin(event.person.user_id):
        return refuse(event, say_plain(lang, "admin.only"))
    download = event.download
    if download is None:  # no adapter of ours sends a press without one
        return refuse(event, say_plain(lang, "admin.import_offer_gone"))
    try:
        taken = await take_import_offer(
            ctx.uow(), offer_id=offer, admin_id=event.person.user_id, now=ctx.clock.now()
        )
    except ImportOfferRefused as refusal:
        return refuse(event, say_plain(lang, _OFFER_REFUSALS[refusal.reason]))

    async def again() -> bytes:
        return await download(taken.file_id)

    pending = PendingImport(
        taken.admin_id, taken.sku, taken.file_name, again, taken.file_id, taken.supplier_id
    )
    [reply] = await _import(pending, lang, ctx, all_or_nothing=False)
    # The refusal becomes the result: its button is spent, and the skipped lines stay listed.
    edit = EditText(reply.chat_id, event.message_id, reply.html, fallback=reply)
    return acknowledged(event, [edit])


_OFFER_REFUSALS = {
    OfferRefusal.UNKNOWN: N_("admin.import_offer_unknown"),
    OfferRefusal.NOT_YOURS: N_("admin.import_offer_not_yours"),
    OfferRefusal.TAKEN: N_("admin.import_offer_taken"),
    OfferRefusal.EXPIRED: N_("admin.import_offer_gone"),
}


async def _import(
    pending: PendingImport, lang: Language, ctx: ShopContext, *, all_or_nothing: bool
) -> list[SendText]:
    chat = pending.admin_id
    try:
        parsed = parse_key_file(pending.file_name, await pending.download())
    except KeyFileError as error:
        problem = shorten(str(error), PROBLEM_LENGTH)
        return [SendText(chat, say(lang, "admin.import_bad_file", reason=problem))]
    try:
        summary = await import_card_keys(
            ctx.uow,
            sku=pending.sku,
            parsed=parsed,
            source=pending.file_name,
            cipher=ctx.cipher,
            now=ctx.clock.now(),
            imported_by=pending.admin_id,
            all_or_nothing=all_or_nothing,
            supplier_id=pending.supplier_id,
        )
    except UnknownSku as unknown:
        return [SendText(chat, _unknown_sku(lang, unknown))]
    except UnknownSupplier:
        shown = shorten(pending.supplier_id, SKU_LENGTH)
        return [SendText(chat, say(lang, "admin.import_unknown_supplier", supplier=shown))]
    except SupplierSuspended:
        shown = shorten(pending.supplier_id, SKU_LENGTH)
        return [SendText(chat, say(lang, "admin.import_supplier_suspended", supplier=shown))]
    except SupplierRefused as refusal:  # a batch without its supplier's good signature
        reason = shorten(str(refusal), PROBLEM_LENGTH)
        return [SendText(chat, say(lang, "admin.import_supplier_refused", reason=reason))]
    except NotFound:
        return [SendText(chat, say(lang, "error.not_found"))]
    except ImportRefused as refusal:
        refused = refusal.summary
        assert isinstance(refused, ImportSummary)
        lines = _refusal_lines(refused)
        refusing = say(lang, "admin.import_refused", sku=refused.sku, lines=lines)
        if refused.suspension is not None:
            suspended = refused.suspension
            refusing += Markup("\n") + say(
                lang,
                "admin.import_resale_suspended",
                supplier=suspended.supplier_id,
                frozen=suspended.frozen,
            )
            return [SendText(chat, refusing)]
        if not refused.acceptable:
            return [SendText(chat, refusing)]
        if not pending.file_id:  # nothing to read it again by: no offer
            return [SendText(chat, refusing)]
        offer = await offer_good_lines(
            ctx.uow(),
            admin_id=pending.admin_id,
            sku=refused.sku,
            file_id=pending.file_id,
            file_name=pending.file_name,
            acceptable=refused.acceptable,
            now=ctx.clock.now(),
            supplier_id=pending.supplier_id,
        )
        label = say_plain(lang, "admin.import_good_button", n=refused.acceptable)
        return [SendText(chat, refusing, ((Button(label, encode("importgood", offer)),),))]
    skipped = say(lang, "admin.import_skipped", n=len(summary.refused)) if summary.refused else ""
    done = say(
        lang, "admin.import_done", imported=summary.imported, sku=summary.sku, refused=skipped
    )
    if summary.refused:
        done += Markup("\n") + _refusal_lines(summary)
    if summary.waiting:
        done += Markup("\n") + say(lang, "admin.import_waiting", supplier=pending.supplier_id)
    return [SendText(chat, done)]


def _unknown_sku(lang: Language, unknown: UnknownSku) -> Markup:
    nearest = Markup(", ").join(Markup("<code>{}</code>").format(s) for s in unknown.nearest)
    return say(
        lang,
        "admin.import_unknown_sku",
        sku=shorten(unknown.sku, SKU_LENGTH),
        nearest=say(lang, "admin.import_nearest", skus=nearest) if unknown.nearest else "",
    )


async def cmd_stock(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """Stock per product, for admins."""
    chat = event.person.chat_id
    if not ctx.is_admin(event.person.user_id):
        return [SendText(chat, say(lang, "admin.only"))]
    levels = await stock_status(ctx.uow())
    if not levels:
        return [SendText(chat, say(lang, "admin.stock", lines=say(lang, "admin.stock_empty")))]
    lines = Markup("\n").join(_stock_line(level, lang) for level in levels)
    return [SendText(chat, say(lang, "admin.stock", lines=lines))]


_STOCK_MARK = {StockState.IN_STOCK: "•", StockState.LOW: "⚠️", StockState.OUT: "⛔"}
_STOCK_STATE = {StockState.LOW: N_("admin.stock_low"), StockState.OUT: N_("admin.stock_out")}
NAME_LENGTH = 40


def _stock_line(level: StockLevel, lang: Language) -> Markup:
    state = _STOCK_STATE.get(level.state)
    return say(
        lang,
        "admin.stock_line",
        mark=_STOCK_MARK[level.state],
        sku=level.sku,
        name=shorten(level.name_en, NAME_LENGTH, whole_words=True),
        state=say(lang, state) if state else "",
        stocked=level.stocked,
        available=level.available,
        held=level.reserved,
        sold=level.sold,
        bad=level.bad,
        returned=level.returned,
    )
