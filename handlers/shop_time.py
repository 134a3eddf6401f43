"""Times as a buyer reads them: in the shop's zone, named (北京时间 for Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime

from handlers.text import say_plain
from store.domain.model import Language
from store.domain.shop_time import BEIJING, ShopTime


def zone_name(lang: Language, shop_time: ShopTime) -> str:
    """北京时间 / Beijing time for Asia/Shanghai; any other zone by its IANA name."""
    if shop_time.zone == BEIJING:
        return say_plain(lang, "time.beijing")
    return shop_time.zone


def shop_clock(lang: Language, shop_time: ShopTime, moment: datetime, pattern: str) -> str:
    """`moment` in the shop's zone as `pattern` (strftime), the zone named as `lang` writes it."""
    local = shop_time.local(moment).strftime(pattern)
    return say_plain(lang, "time.at", zone=zone_name(lang, shop_time), time=local)


def hours_text(lang: Language, shop_time: ShopTime) -> str:
    """The support hours with their zone: 北京时间 09:00-23:00 / 09:00-23:00 Beijing time."""
    return say_plain(lang, "time.at", zone=zone_name(lang, shop_time), time=str(shop_time.hours))
