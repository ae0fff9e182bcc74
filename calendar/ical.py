"""RFC 5545 text of the feeds: content lines, escaping, folding, VEVENT and VCALENDAR.

Why not icalendar's serializer for the events: a 1,000-entry feed built with `Event.new()` and
`Calendar.to_ical()` takes about a second on these machines, and a feed must be served in a few
milliseconds. The feeds use a handful of properties, written here in a few string operations
each. What needs a library stays with icalendar: the VTIMEZONE of each zone (from the tz
database, `Timezone.from_tzid`), and reading feeds back in the tests.

Rules kept here, and why:
- TEXT values escape `\\`, `;`, `,` and line breaks (RFC 5545 3.3.11), backslash first, so
  that user text can never end a property or start a component; CR, LF and CRLF all become
  `\\n`. Other control characters are not allowed in TEXT and are dropped. (icalendar's
  `escape_char` also turns a literal `\\N` into a line break, so a title like `C:\\New` would
  not survive.)
- Lines are folded at 75 octets, never inside a UTF-8 character, and never between a
  backslash and the character it escapes (some clients do not rejoin such a pair).
- Lines end with CRLF.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, vDuration

CRLF = "\r\n"
FOLD_AT = 75  # octets per line, line break excluded
PRODID = "-//twinning//Calendar feeds 1.0//EN"

# TEXT may hold HTAB but no other control character (RFC 5545 3.3.11).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_text(value: str) -> str:
    """A TEXT value as RFC 5545 writes it (str.replace is the fastest way in CPython)."""
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold one content line at 75 octets (continuation lines start with a space)."""
    if len(line) <= FOLD_AT and line.isascii():
        return line
    data = line.encode()
    if len(data) <= FOLD_AT:
        return line
    parts: list[bytes] = []
    start, limit = 0, FOLD_AT
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: do not split its character
            end -= 1
        if _ends_inside_escape(data, start, end):
            end -= 1
        parts.append(data[start:end])
        start, limit = end, FOLD_AT - 1  # the leading space counts
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode()


def _ends_inside_escape(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] ends with the backslash of an escape (an odd run of them)."""
    run = 0
    while end - run > start and data[end - run - 1] == 0x5C:
        run += 1
    return run % 2 == 1


def content_line(name: str, value: str, params: str = "") -> str:
    """One folded content line with its CRLF; `value` must already be in its RFC 5545 form."""
    return fold(f"{name}{params}:{value}") + CRLF


def utc_stamp(value: datetime) -> str:
    """A UTC DATE-TIME (`20260501T020000Z`)."""
    v = value.astimezone(UTC)
    return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}Z"


def local_stamp(value: datetime) -> str:
    """A DATE-TIME on the wall clock of `value`'s own zone, for use with a TZID."""
    v = value
    return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}"


def date_stamp(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def duration(value: timedelta) -> str:
    return vDuration(value).to_ical().decode()


@dataclass(frozen=True, slots=True)
class VEvent:
    """One VEVENT, its texts already in the feed's language.

    Timed events carry aware `start`/`end` and the IANA `timezone` they are shown in;
    all-day events carry dates (`end` exclusive) and no zone."""

    uid: str
    stamp: datetime
    created: datetime
    sequence: int
    start: datetime | date
    end: datetime | date
    timezone: str | None
    status: str
    summary: str
    location: str | None = None
    description: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    transparent: bool = False


def _when(name: str, value: datetime | date, timezone: str | None) -> str:
    if timezone is None:
        day = value.date() if isinstance(value, datetime) else value
        return content_line(name, date_stamp(day), ";VALUE=DATE")
    assert isinstance(value, datetime)
    local = value.astimezone(ZoneInfo(timezone))
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        # The second of two identical wall-clock times (clocks set back): RFC 5545 reads a
        # local time as the first one, so this instant is written in UTC.
        return content_line(name, utc_stamp(value))
    return content_line(name, local_stamp(local), f";TZID={timezone}")


def render_vevent(event: VEvent) -> str:
    """The VEVENT component, CRLF line ends included."""
    lines = [
        "BEGIN:VEVENT" + CRLF,
        content_line("UID", escape_text(event.uid)),
        content_line("DTSTAMP", utc_stamp(event.stamp)),
        content_line("CREATED", utc_stamp(event.created)),
        content_line("LAST-MODIFIED", utc_stamp(event.stamp)),
        content_line("SEQUENCE", str(event.sequence)),
        _when("DTSTART", event.start, event.timezone),
        _when("DTEND", event.end, event.timezone),
        content_line("SUMMARY", escape_text(event.summary)),
    ]
    if event.location:
        lines.append(content_line("LOCATION", escape_text(event.location)))
    if event.description:
        lines.append(content_line("DESCRIPTION", escape_text(event.description)))
    if event.categories:
        lines.append(content_line("CATEGORIES", ",".join(map(escape_text, event.categories))))
    lines.append(content_line("STATUS", event.status.upper()))
    lines.append(content_line("TRANSP", "TRANSPARENT" if event.transparent else "OPAQUE"))
    lines.append("END:VEVENT" + CRLF)
    return "".join(lines)


@lru_cache(maxsize=512)
def render_vtimezone(tzid: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE of IANA zone `tzid`, with its transitions from 1 January of `first_year`
    to 1 January after `last_year` (from the tz database, through icalendar)."""
    timezone = Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )
    return timezone.to_ical().decode()


def render_calendar(
    *,
    name: str,
    refresh: timedelta,
    events: Iterable[str],
    timezones: dict[str, tuple[int, int]],
) -> str:
    """A whole VCALENDAR: `events` are rendered VEVENTs; `timezones` maps every TZID they use
    to the years its VTIMEZONE must cover."""
    every = duration(refresh)
    head = [
        "BEGIN:VCALENDAR" + CRLF,
        "VERSION:2.0" + CRLF,
        content_line("PRODID", PRODID),
        "CALSCALE:GREGORIAN" + CRLF,
        "METHOD:PUBLISH" + CRLF,
        content_line("NAME", escape_text(name)),
        content_line("X-WR-CALNAME", escape_text(name)),
        content_line("REFRESH-INTERVAL", every, ";VALUE=DURATION"),
        content_line("X-PUBLISHED-TTL", every),
    ]
    zones = [render_vtimezone(tzid, *years) for tzid, years in sorted(timezones.items())]
    return "".join([*head, *zones, *events, "END:VCALENDAR" + CRLF])
