"""/trace CODE: where a key came from and what happened to it, for anyone who has its trace
code, and its receipt from the shop's transparency log as a file to check offline."""

from __future__ import annotations

from handlers.action import Action, AnswerButton, Button, SendDocument
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.keyboard import home_row
from handlers.screen import refuse, show
from handlers.shop_time import shop_clock
from handlers.text import N_, Markup, say, say_plain
from store.domain.language import localized
from store.domain.model import Language
from store.domain.provenance import KeyTrace, parse_trace_code
from store.services.provenance import receipt_for, trace_key

EVENT_NAMES: dict[str, str] = {
    "imported": N_("trace.event.imported"),
    "reserved": N_("trace.event.reserved"),
    "released": N_("trace.event.released"),
    "sold": N_("trace.event.sold"),
    "revealed": N_("trace.event.revealed"),
    "reported": N_("trace.event.reported"),
    "replaced": N_("trace.event.replaced"),
    "refunded": N_("trace.event.refunded"),
    "bad": N_("trace.event.bad"),
    "frozen": N_("trace.event.frozen"),
    "unfrozen": N_("trace.event.unfrozen"),
    "written_off": N_("trace.event.written_off"),
}
"""Each lifecycle event's name as a buyer reads it; one the shop adds later shows as logged."""
TIME_PATTERN = "%Y-%m-%d %H:%M"


async def cmd_trace(event: TextMessage, lang: Language, ctx: ShopContext) -> list[Action]:
    """A key's trace (product, supplier, batch, proof, history, sold once) with 📜 Receipt; how
    to use /trace without a code; an unknown or malformed code reveals nothing."""
    _, _, argument = event.text.strip().partition(" ")
    if not argument.strip():
        return show(event, say(lang, "trace.usage"), (home_row(lang),))
    code = parse_trace_code(argument)
    if code is None:
        return refuse(event, say_plain(lang, "trace.unknown"))
    trace = await trace_key(ctx.uow, code=code, viewer_id=event.person.user_id)
    if trace is None:
        return refuse(event, say_plain(lang, "trace.unknown"))
    receipt = Button(say_plain(lang, "trace.receipt"), encode("receipt", trace.trace_code))
    offered = ((receipt,),) if ctx.trace_signer is not None else ()  # no log key, no receipts
    return show(event, trace_text(lang, ctx, trace), (*offered, home_row(lang)))


def trace_text(lang: Language, ctx: ShopContext, trace: KeyTrace) -> Markup:
    """The trace as the reader sees it: never whose key it is, except to its owner."""
    yes, no = say_plain(lang, "trace.yes"), say_plain(lang, "trace.no")
    history = Markup("\n").join(
        say(
            lang,
            "trace.history_line",
            event=_event_name(lang, step.event),
            at=shop_clock(lang, ctx.shop_time, step.at, TIME_PATTERN),
        )
        for step in trace.events
    )
    if trace.sold_times == 0:
        sold = say(lang, "trace.sold_never")
    elif trace.sold_times == 1:
        sold = say(lang, "trace.sold_once")
    else:  # the log would show it: say so rather than hide it
        sold = say(lang, "trace.sold_many", n=trace.sold_times)
    text = say(
        lang,
        "trace.card",
        code=trace.trace_code,
        product=_product_name(lang, trace),
        sku=trace.sku,
        supplier=trace.supplier_public_name,
        batch=trace.batch_id,
        imported=shop_clock(lang, ctx.shop_time, trace.batch_imported_at, TIME_PATTERN),
        proof=yes if trace.has_proof else no,
        signed=say_plain(lang, "trace.signed") if trace.signed else no,
        history=history,
        sold=sold,
    )
    if trace.own_order_reference is not None:
        text += Markup("\n") + say(lang, "trace.your_order", ref=trace.own_order_reference)
    return text


async def on_receipt_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, code: str
) -> list[Action]:
    """The key's receipt (an inclusion proof in the signed log) as `receipt-CODE.txt`, with how
    to check it offline; an unknown code gets a popup and nothing else."""
    if ctx.trace_signer is None:
        return refuse(event, say_plain(lang, "trace.no_receipts"))
    receipt = await receipt_for(
        ctx.uow,
        code=code,
        signer=ctx.trace_signer,
        origin=ctx.trace_origin,
        now=ctx.clock.now(),
    )
    if receipt is None:
        return refuse(event, say_plain(lang, "trace.unknown"))
    file_name = receipt_file_name(code)
    vkey = str(ctx.trace_signer.verifier)
    caption = say(lang, "trace.receipt_caption", code=code, file=file_name, vkey=vkey)
    return [
        AnswerButton(event.callback_id),
        SendDocument(event.person.chat_id, file_name, receipt.encode(), caption),
    ]


def receipt_file_name(code: str) -> str:
    return f"receipt-{code}.txt"


def _event_name(lang: Language, event: str) -> str:
    key = EVENT_NAMES.get(event)
    return say_plain(lang, key) if key is not None else event


def _product_name(lang: Language, trace: KeyTrace) -> str:
    return localized(lang, trace.name_zh, trace.name_en, trace.name_zh_hant)
