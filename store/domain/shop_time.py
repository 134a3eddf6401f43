"""The shop's own time: its zone (SHOP_TIMEZONE) and the support hours read in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property
from zoneinfo import ZoneInfo

BEIJING = "Asia/Shanghai"
_CLOCK = r"([01]?[0-9]|2[0-4]):([0-5][0-9])"
_HOURS = re.compile(rf"\s*{_CLOCK}\s*-\s*{_CLOCK}\s*")


@dataclass(frozen=True)
class SupportHours:
    """A daily span of shop time; one that closes before it opens runs past midnight."""

    opens: time = time(9, 0)
    closes: time = time(23, 0)

    def includes(self, at: time) -> bool:
        if self.opens <= self.closes:
            return self.opens <= at < self.closes
        return at >= self.opens or at < self.closes

    def __str__(self) -> str:
        closes = "24:00" if self.closes == time.max else f"{self.closes:%H:%M}"
        return f"{self.opens:%H:%M}-{closes}"


def parse_support_hours(text: str) -> SupportHours:
    """`09:00-23:00` (24:00 for midnight); ValueError for anything else."""
    match = _HOURS.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a span like 09:00-23:00")
    opens_hour, opens_minute, closes_hour, closes_minute = (int(part) for part in match.groups())
    if opens_hour == 24 or (closes_hour == 24 and closes_minute):
        raise ValueError(f"{text!r} is not a span like 09:00-23:00")
    closes = time.max if closes_hour == 24 else time(closes_hour, closes_minute)
    return SupportHours(time(opens_hour, opens_minute), closes)


@dataclass(frozen=True)
class ShopTime:
    """Every time a buyer sees is in this zone, and support hours are read in it."""

    zone: str = BEIJING
    hours: SupportHours = field(default_factory=SupportHours)

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self._zone)

    def within_support_hours(self, moment: datetime) -> bool:
        return self.hours.includes(self.local(moment).time())
