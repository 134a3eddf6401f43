"""The wallet screen (balance, recent entries, top-up buttons): shown by /wallet, and refreshed
in place once a top-up's Stars arrive."""

from __future__ import annotations

from handlers.action import Button, Keyboard
from handlers.callback import encode
from handlers.context import ShopContext
from handlers.keyboard import home_row, rows
from handlers.text import N_, Markup, say, say_plain
from store.domain.model import Language, LedgerEntry, LedgerReason, Wallet
from store.domain.money import format_money

LEDGER_TEXTS: dict[LedgerReason, str] = {
    LedgerReason.TOPUP: N_("ledger.topup"),
    LedgerReason.PURCHASE: N_("ledger.purchase"),
    LedgerReason.REFUND: N_("ledger.refund"),
    LedgerReason.BAD_KEY_REFUND: N_("ledger.bad_key_refund"),
    LedgerReason.ADMIN_CREDIT: N_("ledger.admin_credit"),
    LedgerReason.LEGACY: N_("ledger.legacy"),
}
"""Why a wallet entry was written, in words, by its reason code."""


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
        LEDGER_TEXTS[entry.reason],
        ref=entry.order_reference or "",
        stars=entry.stars,
        note=entry.note or "",
    )
