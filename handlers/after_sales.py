"""After-sales in chat: refunding unrevealed keys, and reporting a key that does not work."""

from __future__ import annotations

from handlers.action import Action, Button, EditKeyboard, SendText
from handlers.callback import ForgedCallback, encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, DocumentMessage, PhotoMessage
from handlers.handoff import handoff_reply
from handlers.keyboard import home_row, rows
from handlers.screen import acknowledged, refuse, show, spent
from handlers.text import N_, escape, say, say_plain
from handlers.ticket import media_of
from store.domain.case import not_reportable
from store.domain.errors import KeysNotAvailable
from store.domain.flow import AwaitingScreenshot
from store.domain.model import CaseReason, Language
from store.domain.refund import refund_refusal
from store.services.case import (
    CaseOutcome,
    ask_for_screenshot,
    check_reportable,
    keys_to_report,
    report_bad_key,
)
from store.services.order import list_orders

REASONS: dict[str, str] = {
    "redeemed": N_("bad.reason.redeemed"),
    "invalid": N_("bad.reason.invalid"),
    "region": N_("bad.reason.region"),
    "other": N_("bad.reason.other"),
}
"""Why a key does not work, as the buyer picks it, and each reason's text key."""


async def on_refunds_pressed(event: ButtonPress, lang: Language, ctx: ShopContext) -> list[Action]:
    """The buyer's recent orders that can be refunded without questions, one button each."""
    recent = await list_orders(ctx.uow(), user_id=event.person.user_id, page=0, page_size=10)
    now = ctx.clock.now()
    eligible = [o for o in recent.items if refund_refusal(o, now, ctx.refund) is None]
    if not eligible:
        return show(
            event,
            say(lang, "refund.none"),
            ((Button(say_plain(lang, "faq.action.report_bad_key"), "bad:0"),), home_row(lang)),
        )
    buttons = [
        Button(
            f"{say_plain(lang, 'refund.confirm_button', ref=o.reference)} · {o.product_name(lang)}"[
                :60
            ],
            encode("refund", o.reference),
        )
        for o in eligible
    ]
    return show(
        event,
        say(lang, "refund.choose", days=ctx.refund.window_days),
        (*rows(buttons, 1), home_row(lang)),
    )


async def on_bad_key_pressed(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int, named: str
) -> list[Action]:
    """Step 1: which order (when not given), then which key.

    `named` is the order as the pressed button named it (its reference; an old button's id),
    carried on by the next steps' buttons so they do not show the id either."""
    if order_id == 0:
        recent = await list_orders(ctx.uow(), user_id=event.person.user_id, page=0, page_size=10)
        with_keys = [o for o in recent.items if not_reportable(o) is None]
        if not with_keys:
            unseen = any(not_reportable(o) == "unrevealed" for o in recent.items)
            return refuse(
                event, say_plain(lang, N_("bad.unrevealed") if unseen else N_("bad.none"))
            )
        buttons = [
            Button(f"{o.reference} · {o.product_name(lang)}"[:60], encode("bad", o.reference))
            for o in with_keys
        ]
        return show(event, say(lang, "bad.choose_order"), (*rows(buttons, 1), home_row(lang)))
    try:
        keys = await keys_to_report(
            ctx.uow(),
            user_id=event.person.user_id,
            order_id=order_id,
            cipher=ctx.cipher,
        )
    except KeysNotAvailable as error:
        return refuse(event, _not_reportable(lang, str(error)))
    if len(keys) == 1:  # nothing to choose between: straight to what went wrong
        return _reason_screen(event, lang, named, keys[0].key_id)
    buttons = [Button(key.masked, encode("badk", named, key.key_id)) for key in keys]
    return show(event, say(lang, "bad.choose_key"), (*rows(buttons, 2), home_row(lang)))


def _not_reportable(lang: Language, reason: str) -> str:
    return say_plain(lang, N_("bad.unrevealed") if reason == "unrevealed" else N_("bad.none"))


async def on_bad_key_chosen(
    event: ButtonPress,
    lang: Language,
    ctx: ShopContext,
    order_id: int,
    key_id: int,
    named: str,
) -> list[Action]:
    """Step 2: what went wrong (for the buyer's own revealed key only)."""
    try:
        await check_reportable(
            ctx.uow(), user_id=event.person.user_id, order_id=order_id, key_id=key_id
        )
    except KeysNotAvailable as error:
        return refuse(event, _not_reportable(lang, str(error)))
    return _reason_screen(event, lang, named, key_id)


def _reason_screen(event: ButtonPress, lang: Language, named: str, key_id: int) -> list[Action]:
    buttons = [
        Button(say_plain(lang, label), encode("badr", named, key_id, r))
        for r, label in REASONS.items()
    ]
    return show(event, say(lang, "bad.choose_reason"), tuple(rows(buttons, 2)))


async def on_bad_reason_chosen(
    event: ButtonPress,
    lang: Language,
    ctx: ShopContext,
    order_id: int,
    key_id: int,
    reason: str,
    named: str,
) -> list[Action]:
    """Step 3: a screenshot may follow, or Skip."""
    try:
        await ask_for_screenshot(
            ctx.uow(),
            user_id=event.person.user_id,
            order_id=order_id,
            key_id=key_id,
            reason=_reason(reason),
            now=ctx.clock.now(),
            prompt_message_id=event.message_id,  # `show` edits this message into the prompt
        )
    except KeysNotAvailable as error:
        return refuse(event, _not_reportable(lang, str(error)))
    skip = ((Button(say_plain(lang, "bad.skip"), encode("bads", named, key_id, reason)),),)
    return show(event, say(lang, "bad.screenshot"), skip)


def _reason(value: str) -> CaseReason:
    if value not in REASONS:
        raise ForgedCallback(value)
    return CaseReason(value)


async def on_screenshot_skipped(
    event: ButtonPress, lang: Language, ctx: ShopContext, order_id: int, key_id: int, reason: str
) -> list[Action]:
    report = AwaitingScreenshot(order_id, key_id, _reason(reason))
    return spent(event, await _report(event, lang, ctx, report, screenshot=None))


async def on_screenshot(
    event: PhotoMessage | DocumentMessage,
    lang: Language,
    ctx: ShopContext,
    report: AwaitingScreenshot,
) -> list[Action]:
    """The screenshot arrives (a photo, or a picture sent as a file): the case is opened with it,
    and the agent who takes the case is shown a copy."""
    reply = await _report(event, lang, ctx, report, screenshot=event.file_id)
    if report.prompt_message_id is None:
        return reply
    return [EditKeyboard(event.person.chat_id, report.prompt_message_id), *reply]


async def _report(
    event: ButtonPress | PhotoMessage | DocumentMessage,
    lang: Language,
    ctx: ShopContext,
    report: AwaitingScreenshot,
    screenshot: str | None,
) -> list[Action]:
    try:
        outcome = await report_bad_key(
            ctx.uow(),
            user_id=event.person.user_id,
            first_name=event.person.first_name,
            order_id=report.order_id,
            key_id=report.key_id,
            reason=report.reason,
            screenshot=screenshot,
            now=ctx.clock.now(),
            rules=ctx.replacement,
            cipher=ctx.cipher,
            screenshot_message=(
                None if isinstance(event, ButtonPress) else (media_of(event), event.message_id)
            ),
        )
    except KeysNotAvailable as error:
        if isinstance(event, ButtonPress):
            return refuse(event, _not_reportable(lang, str(error)))
        return [SendText(event.person.chat_id, escape(_not_reportable(lang, str(error))))]
    return _case_reply(event, lang, outcome)


def _case_reply(
    event: ButtonPress | PhotoMessage | DocumentMessage, lang: Language, outcome: CaseOutcome
) -> list[Action]:
    chat = event.person.chat_id
    if outcome.replaced:
        show_keys = say_plain(lang, "delivery.show")
        keys = ((Button(show_keys, encode("keys", outcome.case.order_reference)),),)
        text = SendText(chat, say(lang, "bad.replaced", ref=outcome.case.order_reference), keys)
        return acknowledged(event, [text])
    opened = SendText(chat, say(lang, "bad.queued", ref=outcome.case.order_reference))
    handoff = outcome.handoff
    assert handoff is not None
    if handoff.agent is not None and not handoff.new:
        # The buyer is already talking to this agent: the case joins the conversation, and
        # the outbox brings the agent a fresh card holding its buttons (and tells the buyer).
        return acknowledged(event, [opened])
    return acknowledged(event, [opened, *handoff_reply(event, lang, handoff)])
