"""The shop's zone and support hours: parsing, spans past midnight, and the settings."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from config.settings import SettingsError, load_settings
from store.domain.shop_time import ShopTime, SupportHours, parse_support_hours


def test_support_hours_are_parsed_from_a_span() -> None:
    assert parse_support_hours(" 9:30 - 18:00 ") == SupportHours(time(9, 30), time(18, 0))
    assert str(parse_support_hours("09:00-24:00")) == "09:00-24:00"


@pytest.mark.parametrize("written", ["9-18", "09:00", "25:00-26:00", "09:00-24:30", "24:00-09:00"])
def test_a_span_that_is_not_hh_mm_to_hh_mm_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="is not a span"):
        parse_support_hours(written)


def test_hours_that_close_before_they_open_run_past_midnight() -> None:
    night = parse_support_hours("22:00-02:00")
    assert night.includes(time(23, 30)) and night.includes(time(1, 59))
    assert not night.includes(time(2, 0)) and not night.includes(time(12, 0))


def test_support_hours_are_read_in_the_shops_zone() -> None:
    beijing = ShopTime()  # Asia/Shanghai, 09:00-23:00
    assert beijing.within_support_hours(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # 09:00
    assert not beijing.within_support_hours(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # 23:00
    assert beijing.local(datetime(2026, 11, 25, 16, 0, tzinfo=UTC)).hour == 0


def test_the_shop_timezone_defaults_to_beijing_and_a_wrong_one_is_refused_in_one_line() -> None:
    settings = load_settings({}, env_file=None)
    assert (settings.SHOP_TIMEZONE, settings.SUPPORT_HOURS) == ("Asia/Shanghai", "09:00-23:00")
    with pytest.raises(SettingsError, match=r"^Setting SHOP_TIMEZONE 'Mars/Base' is not a"):
        load_settings({"SHOP_TIMEZONE": "Mars/Base"}, env_file=None)


def test_support_hours_that_are_not_a_span_are_refused_in_one_line() -> None:
    with pytest.raises(SettingsError, match=r"^Setting SUPPORT_HOURS '9am-5pm' is not a span"):
        load_settings({"SUPPORT_HOURS": "9am-5pm"}, env_file=None)
