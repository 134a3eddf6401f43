"""The wallet: balance, recent ledger entries, and top-ups with Stars."""

from __future__ import annotations

from handlers.action import Action, Button
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.event import ButtonPress, TextMessage
from handlers.keyboard import home_row, rows
from handlers.screen import show
from handlers.text import Markup, say, say_plain
from store.domain.model import Language, LedgerEntry
from store.domain.money import format_money
from store.services.wallet import show_wallet


async def cmd_wallet(
    event: TextMessage | ButtonPress, lang: Language, ctx: ShopContext
) -> list[Action]:
    """Balance, the last ledger entries, and top-up buttons."""
    wallet = await show_wallet(ctx.uow(), user_id=event.person.user_id)
    entries = Markup("\n").join(
        say(
            lang,
            "wallet.entry",
            when=e.created_at.strftime("%m-%d %H:%M"),
            amount=format_money(e.amount_minor, ctx.currency),
            reason=_reason(lang, e),
        )
        for e in wallet.recent
    ) or say(lang, "wallet.none")
    text = say(
        lang,
        "wallet.title",
        balance=format_money(wallet.balance_minor, ctx.currency),
        entries=entries + Markup("\n"),
        rate=format_money(ctx.topup.star_value_minor, ctx.currency),
    )
    buttons = [
        Button(
            say_plain(
                lang,
                "wallet.topup",
                stars=stars,
                amount=format_money(stars * ctx.topup.star_value_minor, ctx.currency),
            ),
            encode("topup", stars),
        )
        for stars in ctx.topup.allowed_stars
    ]
    return show(event, text, (*rows(buttons, 2), home_row(lang)))


def _reason(lang: Language, entry: LedgerEntry) -> Markup:
    """Why the entry was written, in the buyer's language (a legacy entry keeps its words)."""
    return say(
        lang,
        f"ledger.{entry.reason.value}",
        id=entry.order_id,
        stars=entry.stars,
        note=entry.note or "",
    )
