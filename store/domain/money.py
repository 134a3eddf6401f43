"""Money is integer minor units; this module only formats and converts it."""

from __future__ import annotations

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "TWD": "NT$"}


def format_money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{sign}{symbol}{whole:,}.{cents:02d}"


def stars_for(price_minor: int, star_value_minor: int) -> int:
    """Stars needed to pay a price, rounded up so the shop never undercharges."""
    return max(1, -(-price_minor // star_value_minor))
