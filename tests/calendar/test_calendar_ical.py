"""The iCalendar text itself: hostile user text stays text, lines fold at 75 octets without
breaking a UTF-8 character, every line ends with CRLF, and icalendar reads it all back."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from calendar_support import content_lines, events_by_uid, parse
from twinning.calendar.ical import VEvent, escape_text, fold, render_calendar, render_vevent

HOSTILE = [
    "Dinner\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected",
    "BEGIN:VCALENDAR",
    "a;b,c\\d",
    "C:\\New folder\\Notes",  # icalendar's own escape_char turns "\N" into a line break
    "trailing backslash \\",
    "lone\rcarriage return and\nline feed",
    "tab\tstays",
    "emoji 🎎 and 漢字 and ëxtra",
    ";;;,,,\\\\\\",
]


def sample_event(summary: str = "Meeting", **changes: object) -> VEvent:
    start = datetime(2026, 5, 1, 2, tzinfo=UTC)
    facts: dict[str, object] = {
        "uid": "itinerary-1@twinning",
        "stamp": datetime(2026, 4, 1, 8, tzinfo=UTC),
        "created": datetime(2026, 4, 1, 7, tzinfo=UTC),
        "sequence": 3,
        "start": start,
        "end": start + timedelta(hours=1),
        "timezone": "Asia/Taipei",
        "status": "confirmed",
        "summary": summary,
        "location": "City Hall",
        "description": "Officials: Mayor Lin",
        "categories": ("Delegation visit",),
    }
    return VEvent(**{**facts, **changes})  # type: ignore[arg-type]


def one_event_feed(event: VEvent) -> str:
    return render_calendar(
        name="Test",
        refresh=timedelta(hours=1),
        events=[render_vevent(event)],
        timezones={"Asia/Taipei": (2025, 2027)} if event.timezone else {},
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_in_every_text_property_round_trips_as_text(text: str) -> None:
    event = sample_event(text, location=text, description=text, categories=(text, "other"))

    feed = one_event_feed(event)

    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    (parsed,) = parse(feed).events
    assert str(parsed["SUMMARY"]) == expected
    assert str(parsed["LOCATION"]) == expected
    assert str(parsed["DESCRIPTION"]) == expected
    assert [str(c) for c in parsed["CATEGORIES"].cats] == [expected, "other"]
    assert len(parse(feed).walk("VEVENT")) == 1, "no component was injected"


def test_a_title_cannot_start_a_line_of_its_own() -> None:
    feed = one_event_feed(sample_event(HOSTILE[0]))

    lines = list(content_lines(feed))
    assert lines.count("BEGIN:VEVENT") == 1
    assert not any(line.startswith("SUMMARY:injected") for line in lines)


def test_every_line_ends_with_crlf_and_no_bare_line_break_is_left() -> None:
    feed = one_event_feed(sample_event("a\nb\rc"))

    assert feed.endswith("\r\n")
    assert "\n" not in feed.replace("\r\n", "")
    assert "\r" not in feed.replace("\r\n", "")


@pytest.mark.parametrize(
    "summary",
    [
        "x" * 300,
        "漢" * 120,  # 3 octets each: a fold must fall between characters
        "🎎" * 80,  # 4 octets each
        "a" + "é" * 150,
        "\\" * 200,  # escaped backslashes: a fold never separates an escape
        "ab;" * 60,
    ],
)
def test_lines_fold_at_75_octets_without_splitting_a_character_or_an_escape(summary: str) -> None:
    feed = one_event_feed(sample_event(summary))

    for line in content_lines(feed):
        assert len(line.encode()) <= 75
        line.encode().decode()  # each physical line is valid UTF-8 on its own
    folded = [line for line in content_lines(feed) if line.startswith(("SUMMARY", " "))]
    for before, after in itertools.pairwise(folded):
        if after.startswith(" "):
            run = len(before) - len(before.rstrip("\\"))
            assert run % 2 == 0, "a backslash escape was split across lines"
    (event,) = parse(feed).events
    assert str(event["SUMMARY"]) == summary


def test_folding_leaves_short_lines_alone_and_unfolds_to_the_original() -> None:
    assert fold("SUMMARY:short") == "SUMMARY:short"
    line = "DESCRIPTION:" + "漢字 and text; " * 20
    assert fold(line).replace("\r\n ", "") == line


def test_escaping_follows_rfc_5545_with_the_backslash_first() -> None:
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    assert escape_text("bell\x07 and nul\x00 are dropped") == "bell and nul are dropped"


def test_times_carry_the_zone_of_the_place_and_all_day_entries_carry_dates() -> None:
    feed = one_event_feed(sample_event())
    lines = list(content_lines(feed))
    assert "DTSTART;TZID=Asia/Taipei:20260501T100000" in lines
    assert "DTEND;TZID=Asia/Taipei:20260501T110000" in lines
    (event,) = parse(feed).events
    assert event.start == datetime(2026, 5, 1, 10, tzinfo=ZoneInfo("Asia/Taipei"))

    all_day = one_event_feed(
        sample_event(
            start=date(2031, 4, 20), end=date(2031, 4, 21), timezone=None, transparent=True
        )
    )
    assert "DTSTART;VALUE=DATE:20310420" in all_day
    (event,) = events_by_uid(all_day).values()
    assert (event.start, event.end) == (date(2031, 4, 20), date(2031, 4, 21))
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_stamps_sequence_and_status_are_written_as_clients_expect() -> None:
    (event,) = parse(one_event_feed(sample_event(status="cancelled"))).events

    assert event["DTSTAMP"].dt == datetime(2026, 4, 1, 8, tzinfo=UTC)
    assert event["LAST-MODIFIED"].dt == datetime(2026, 4, 1, 8, tzinfo=UTC)
    assert event["CREATED"].dt == datetime(2026, 4, 1, 7, tzinfo=UTC)
    assert event["SEQUENCE"] == 3
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_second_of_two_identical_local_times_is_written_in_utc() -> None:
    # Madrid sets its clocks back at 03:00 on 2026-10-25: 02:30 happens twice.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    feed = render_calendar(
        name="Test",
        refresh=timedelta(hours=1),
        events=[
            render_vevent(
                sample_event(
                    uid="a",
                    start=first,
                    end=first + timedelta(minutes=30),
                    timezone="Europe/Madrid",
                )
            ),
            render_vevent(
                sample_event(
                    uid="b",
                    start=second,
                    end=second + timedelta(minutes=30),
                    timezone="Europe/Madrid",
                )
            ),
        ],
        timezones={"Europe/Madrid": (2025, 2027)},
    )

    events = events_by_uid(feed)
    assert "DTSTART;TZID=Europe/Madrid:20261025T023000" in feed
    assert "DTSTART:20261025T013000Z" in feed
    assert events["a"].start.astimezone(UTC) == first
    assert events["b"].start.astimezone(UTC) == second
