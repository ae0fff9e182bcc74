"""Locale-aware display through Babel and CLDR only: dates and times in a partner's or the
city's zone, date ranges, numbers, NT$ amounts, country and language names.

Every function takes a BCP 47 `locale` (default: the current one, see `force_locale`) and
leaves the wording to CLDR; twinning keeps no tables of names or patterns of its own.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates, numbers
from twinning.i18n.locales import get_locale


@cache
def babel_locale(locale: str) -> Locale:
    """CLDR's data for a BCP 47 tag (`zh-TW` -> zh_Hant_TW)."""
    return Locale.parse(locale, sep="-")


def _cldr(locale: str | None) -> Locale:
    return babel_locale(locale or get_locale())


def _in_zone(value: date, zone: str | None) -> ZoneInfo | None:
    """The zone to show a datetime in; a naive datetime is refused rather than guessed at."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None or zone is None:
        raise ValueError("a datetime needs a time zone of its own and a zone to be shown in")
    return ZoneInfo(zone)


def format_datetime(
    value: datetime, zone: str, *, format: str = "medium", locale: str | None = None
) -> str:
    """`value` as a reader of `locale` writes it, on the wall clock of IANA `zone`."""
    return dates.format_datetime(value, format, tzinfo=_in_zone(value, zone), locale=_cldr(locale))


def format_date(value: date, *, format: str = "medium", locale: str | None = None) -> str:
    return dates.format_date(value, format, locale=_cldr(locale))


def format_interval(
    start: date,
    end: date,
    *,
    zone: str | None = None,
    skeleton: str = "yMMMd",
    locale: str | None = None,
) -> str:
    """A range such as "Mar 14 – 16, 2025" or "2025年3月14日至16日", written once, not twice;
    datetimes are shown on the wall clock of `zone`. `skeleton` is a CLDR skeleton
    (`yMMMd` dates, `yMMMdHm` dates with times, `Hm` times of one day)."""
    return dates.format_interval(
        start, end, skeleton, tzinfo=_in_zone(start, zone), locale=_cldr(locale)
    )


def format_number(value: int | float | Decimal, *, locale: str | None = None) -> str:
    return numbers.format_decimal(value, locale=_cldr(locale))


def format_twd(amount: int | float | Decimal, *, locale: str | None = None) -> str:
    """A New Taiwan dollar amount: `$1,500.00` in zh-TW, `NT$1,500.00` in en, `1.500,00 TWD` in es."""
    return numbers.format_currency(amount, "TWD", locale=_cldr(locale))


def country_name(code: str, *, locale: str | None = None) -> str:
    """CLDR's name of ISO 3166 country `code` (JP: 日本 in zh-TW, 일본 in ko, Japón in es)."""
    return _cldr(locale).territories.get(code.upper(), code)


def language_name(tag: str, *, locale: str | None = None) -> str:
    """CLDR's name of the language of BCP 47 `tag` (`zh-Hant`: 繁體中文, Traditional Chinese)."""
    reader = _cldr(locale)
    if name := reader.languages.get(tag.replace("-", "_")):
        return name
    try:
        return Locale.parse(tag, sep="-").get_display_name(reader) or tag
    except (ValueError, UnknownLocaleError):
        return tag
