"""Locale-aware display comes from CLDR through Babel: country and language names, dates in the
right zone, date ranges, numbers and NT$ amounts in each shipped locale."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import get_timezone_name
from twinning.i18n import (
    country_name,
    force_locale,
    format_date,
    format_datetime,
    format_interval,
    format_number,
    format_twd,
    language_name,
)


@pytest.mark.parametrize(
    ("locale", "japan", "korea", "united_states"),
    [
        ("zh-TW", "日本", "南韓", "美國"),
        ("ja", "日本", "韓国", "アメリカ合衆国"),
        ("ko", "일본", "대한민국", "미국"),
        ("en", "Japan", "South Korea", "United States"),
        ("es", "Japón", "Corea del Sur", "Estados Unidos"),
    ],
)
def test_country_names_are_cldr_names_in_the_readers_language(
    locale: str, japan: str, korea: str, united_states: str
) -> None:
    assert [country_name(code, locale=locale) for code in ("JP", "KR", "us")] == [
        japan,
        korea,
        united_states,
    ]


@pytest.mark.parametrize(
    ("locale", "japanese", "traditional_chinese"),
    [
        ("zh-TW", "日文", "繁體中文"),
        ("ja", "日本語", "繁体中国語"),
        ("ko", "일본어", "중국어(만다린, 번체)"),
        ("en", "Japanese", "Traditional Chinese"),
        ("es", "japonés", "chino tradicional"),
    ],
)
def test_language_names_are_cldr_names_in_the_readers_language(
    locale: str, japanese: str, traditional_chinese: str
) -> None:
    assert language_name("ja", locale=locale) == japanese
    assert language_name("zh-Hant", locale=locale) == traditional_chinese


def test_a_regional_language_tag_is_named_with_its_region() -> None:
    assert language_name("zh-TW", locale="en") == "Chinese (Traditional, Taiwan)"


# 01:30 UTC is 09:30 in Taipei and 10:30 in Tokyo, on the same day.
MEETING = datetime(2025, 3, 14, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "day", "wall_clock"),
    [
        ("ja", "2025年3月14日", "9時30分"),
        ("zh-TW", "2025年3月14日", "9:30"),
        ("ko", "2025년 3월 14일", "9시 30분"),
        ("en", "March 14, 2025", "9:30"),
        ("es", "14 de marzo de 2025", "9:30"),
    ],
)
def test_a_time_is_shown_on_the_wall_clock_of_its_zone_in_each_locale(
    locale: str, day: str, wall_clock: str
) -> None:
    """The date and the time as Taipei sees them, and the zone named in the locale. (The zone's
    name, and details such as AM/오전, change with CLDR releases: the name is CLDR's own.)"""
    shown = format_datetime(MEETING, "Asia/Taipei", format="full", locale=locale)
    in_taipei = MEETING.astimezone(ZoneInfo("Asia/Taipei"))
    zone = get_timezone_name(in_taipei, width="long", locale=Locale.parse(locale, sep="-"))
    assert day in shown
    assert wall_clock in shown
    assert zone in shown


def test_the_same_instant_reads_differently_in_another_zone() -> None:
    assert format_datetime(MEETING, "Asia/Tokyo", format="short", locale="ja") == "2025/03/14 10:30"
    assert format_datetime(MEETING, "Asia/Taipei", format="short", locale="ja") == "2025/03/14 9:30"


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="time zone"):
        format_datetime(datetime(2025, 3, 14, 9, 30), "Asia/Taipei", locale="ja")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh-TW", "2025年3月14日至16日"),
        ("ja", "2025年3月14日～16日"),
        ("ko", "2025년 3월 14일~16일"),
        ("en", "Mar 14\u2009–\u200916, 2025"),
        ("es", "14–16 mar 2025"),
    ],
)
def test_a_date_range_is_written_once_in_each_locale(locale: str, expected: str) -> None:
    assert format_interval(date(2025, 3, 14), date(2025, 3, 16), locale=locale) == expected


def test_a_time_range_is_shown_in_the_zone_of_the_event() -> None:
    end = datetime(2025, 3, 14, 3, 0, tzinfo=UTC)
    assert format_interval(MEETING, end, zone="Asia/Taipei", skeleton="Hm", locale="en") == (
        "09:30\u2009–\u200911:00"
    )


@pytest.mark.parametrize(
    ("locale", "number", "amount"),
    [
        ("zh-TW", "1,234,567.5", "$1,500.00"),
        ("ja", "1,234,567.5", "NT$1,500.00"),
        ("ko", "1,234,567.5", "NT$1,500.00"),
        ("en", "1,234,567.5", "NT$1,500.00"),
        ("es", "1.234.567,5", "1.500,00\xa0TWD"),
    ],
)
def test_numbers_and_nt_dollar_amounts_follow_the_locale(
    locale: str, number: str, amount: str
) -> None:
    assert format_number(1234567.5, locale=locale) == number
    assert format_twd(1500, locale=locale) == amount


def test_formatting_defaults_to_the_forced_locale() -> None:
    with force_locale("ko"):
        assert country_name("JP") == "일본"
        assert format_date(date(2025, 3, 14), format="long") == "2025년 3월 14일"
