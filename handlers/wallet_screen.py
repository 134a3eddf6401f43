"""The wallet screen (balance, recent entries, top-up buttons): shown by /wallet, and refreshed
in place once a top-up's Stars arrive."""

from __future__ import annotations

from handlers.action import Button, Keyboard
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.keyboard import home_row, rows
from handlers.text import Markup, say, say_plain
from store.domain.model import Language, LedgerEntry, Wallet
from store.domain.money import format_money


def wallet_screen(lang: Language, wallet: Wallet, ctx: ShopContext) -> tuple[Markup, Keyboard]:
    """Balance, the last ledger entries, and top-up buttons."""
    entries = Markup("\n").join(
        say(
            lang,
            "wallet.entry",
            when=ctx.shop_time.local(e.created_at).strftime("%m-%d %H:%M"),
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
    return text, (*rows(buttons, 2), home_row(lang))


def _reason(lang: Language, entry: LedgerEntry) -> Markup:
    """Why the entry was written, in the buyer's language (a legacy entry keeps its words)."""
    return say(
        lang,
        f"ledger.{entry.reason.value}",
        id=entry.order_id,
        stars=entry.stars,
        note=entry.note or "",
    )
