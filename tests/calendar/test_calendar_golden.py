"""Golden feeds: the sample office's feeds, byte for byte, and read back with icalendar field
by field. After an intended change of the rendering, regenerate them with

    TWINNING_UPDATE_GOLDEN=1 python -m pytest tests/calendar/test_calendar_golden.py -n 0

and review the diff of tests/calendar/data/ before committing it.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from calendar_support import (
    BANQUET,
    COURTESY_CALL,
    FESTIVAL,
    MAYOR,
    SAPPORO,
    SCIENCE_PARK,
    TEA,
    Feeds,
    Producer,
    check_feed,
    uid,
)
from conftest import Projection
from twinning.calendar.feeds import Audience

DATA = Path(__file__).parent / "data"
TAIPEI = ZoneInfo("Asia/Taipei")

GOLDEN = {
    "official-mayor.zh-TW.ics": (Audience.official(MAYOR), "zh-TW"),
    "official-mayor.en.ics": (Audience.official(MAYOR), "en"),
    "office.en.ics": (Audience.office(), "en"),
    "partner-sapporo.ja.ics": (Audience.partner(SAPPORO), "ja"),
}


@pytest.fixture
def feeds(projection: Projection) -> Feeds:
    Producer(projection).sample_office()
    return Feeds(projection)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_sample_feeds_match_their_golden_files(feeds: Feeds, name: str) -> None:
    audience, language = GOLDEN[name]

    body = feeds.text(audience, language).encode()

    golden = DATA / name
    if os.environ.get("TWINNING_UPDATE_GOLDEN"):
        golden.write_bytes(body)
    assert body == golden.read_bytes(), f"{name} differs; see this module's docstring"


def fields(event: Any) -> dict[str, object]:
    return {
        "start": event.start,
        "end": event.end,
        "tzid": event["DTSTART"].params.get("TZID"),
        "summary": str(event["SUMMARY"]),
        "location": str(event.get("LOCATION", "")) or None,
        "description": str(event.get("DESCRIPTION", "")).splitlines(),
        "status": str(event["STATUS"]),
        "sequence": event["SEQUENCE"],
        "stamp": event["DTSTAMP"].dt,
        "modified": event["LAST-MODIFIED"].dt,
        "categories": [str(c) for c in event["CATEGORIES"].cats],
    }


def golden_events(name: str) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    calendar = check_feed((DATA / name).read_bytes())
    head = {key: calendar[key] for key in ("NAME", "X-WR-CALNAME", "METHOD", "CALSCALE")}
    head["refresh"] = calendar["REFRESH-INTERVAL"].dt
    head["ttl"] = str(calendar["X-PUBLISHED-TTL"])
    head["zones"] = sorted(str(z["TZID"]) for z in calendar.walk("VTIMEZONE"))
    return head, {str(event["UID"]): fields(event) for event in calendar.events}


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 5, day, hour, minute, tzinfo=TAIPEI)


def stamp(minute: int) -> datetime:
    """The time of the sample office's n-th event (one a minute from 08:00 UTC)."""
    return datetime(2026, 4, 1, 8, minute, tzinfo=UTC)


def test_the_mayors_feed_in_traditional_chinese_reads_back_field_by_field() -> None:
    head, events = golden_events("official-mayor.zh-TW.ics")

    assert head == {
        "NAME": "林市長的行事曆",
        "X-WR-CALNAME": "林市長的行事曆",
        "METHOD": "PUBLISH",
        "CALSCALE": "GREGORIAN",
        "refresh": timedelta(hours=1),
        "ttl": "PT1H",
        "zones": ["Asia/Taipei"],
    }
    assert events == {
        uid("itinerary", COURTESY_CALL): {
            "start": at(10),  # given in Tokyo time, shown in the venue's
            "end": at(11),
            "tzid": "Asia/Taipei",
            "summary": "拜會市長",
            "location": "市府大禮堂（縣府路1號）",
            "description": [
                "來訪團：札幌市",
                "出席官員：林市長和王副市長",
                "口譯員：Ms Chen",
                "備註：Enter by the east gate; bring the guest book",
            ],
            "status": "CONFIRMED",
            "sequence": 1,  # tentative, then confirmed when the visit was scheduled
            "stamp": stamp(12),
            "modified": stamp(12),
            "categories": ["代表團來訪"],
        },
        uid("itinerary", BANQUET): {
            "start": at(18, 30),
            "end": at(21),
            "tzid": "Asia/Taipei",
            "summary": "歡迎晚宴，含表演；市民參與",
            "location": "市府大禮堂（縣府路1號）",
            "description": ["來訪團：札幌市", "出席官員：林市長"],
            "status": "CONFIRMED",
            "sequence": 1,
            "stamp": stamp(12),
            "modified": stamp(12),
            "categories": ["代表團來訪"],
        },
        uid("itinerary", TEA): {
            "start": at(9, day=2),
            "end": at(10, day=2),
            "tzid": "Asia/Taipei",
            "summary": "【已取消】Tea ceremony",  # no Chinese title: English, then
            "location": "市府大禮堂（縣府路1號）",
            "description": ["來訪團：札幌市", "出席官員：林市長"],
            "status": "CANCELLED",
            "sequence": 1,
            "stamp": stamp(11),
            "modified": stamp(11),
            "categories": ["代表團來訪"],
        },
    }


def test_the_mayors_feed_in_english_has_the_same_events_in_english() -> None:
    _, zh = golden_events("official-mayor.zh-TW.ics")
    head, en = golden_events("official-mayor.en.ics")

    assert head["X-WR-CALNAME"] == "Mayor Lin's calendar"
    assert set(en) == set(zh)
    for entry_uid, event in en.items():
        same = ("start", "end", "tzid", "status", "sequence", "stamp", "modified")
        assert {k: event[k] for k in same} == {k: zh[entry_uid][k] for k in same}
    call = en[uid("itinerary", COURTESY_CALL)]
    assert (call["summary"], call["location"]) == (
        "Courtesy call on the mayor",
        "City Hall Auditorium, 1 County Hall Road",
    )
    assert call["description"] == [
        "Delegation: Sapporo",
        "Officials: Mayor Lin and Deputy Mayor Wang",
        "Interpreter: Ms Chen",
        "Notes: Enter by the east gate; bring the guest book",
    ]
    assert en[uid("itinerary", BANQUET)]["summary"] == (
        "Welcome banquet, with a show; citizens welcome \\ all"
    )


def test_the_office_feed_holds_every_entry_with_anniversaries_as_whole_days() -> None:
    head, events = golden_events("office.en.ics")

    assert head["X-WR-CALNAME"] == "International affairs office"
    assert list(events) == [
        uid("anniversary", f"{SAPPORO}-15"),
        uid("itinerary", COURTESY_CALL),
        uid("itinerary", SCIENCE_PARK),
        uid("itinerary", BANQUET),
        uid("itinerary", TEA),
        uid("city-event", FESTIVAL),
        uid("anniversary", f"{SAPPORO}-20"),
    ]
    assert events[uid("anniversary", f"{SAPPORO}-15")] == {
        "start": date(2026, 4, 20),
        "end": date(2026, 4, 21),
        "tzid": None,
        "summary": "Agreement anniversary: 15 years with Sapporo",
        "location": None,
        "description": ["Sister city", "Agreement signed on April 20, 2011"],
        "status": "CONFIRMED",
        "sequence": 0,
        "stamp": stamp(1),
        "modified": stamp(1),
        "categories": ["Agreement anniversary"],
    }
    park = events[uid("itinerary", SCIENCE_PARK)]
    assert park["location"] == "Science Park, 2 Innovation Road"
    assert park["description"] == [
        "Delegation: Sapporo",
        "Officials: Deputy Mayor Wang",
        "Interpreter: to be confirmed",
    ]
    festival = events[uid("city-event", FESTIVAL)]
    assert (festival["start"], festival["location"], festival["categories"]) == (
        datetime(2026, 10, 10, 9, tzinfo=TAIPEI),
        "Arts Plaza",
        ["City event"],
    )


def test_the_partner_feed_is_in_japanese_without_the_interpreter_or_internal_notes() -> None:
    head, events = golden_events("partner-sapporo.ja.ics")

    assert head["X-WR-CALNAME"] == "札幌市との交流・訪問"
    assert uid("itinerary", COURTESY_CALL) in events
    call = events[uid("itinerary", COURTESY_CALL)]
    assert (call["summary"], call["location"]) == (
        "市長表敬訪問",
        "市庁舎講堂（1 County Hall Road）",
    )
    assert call["description"] == ["来訪団：札幌市", "市側出席者：林市長、Deputy Mayor Wang"]
    assert events[uid("anniversary", f"{SAPPORO}-15")]["summary"] == "札幌市との提携15周年"
    for event in events.values():
        assert not any(line.startswith(("通訳", "備考")) for line in event["description"])  # type: ignore[attr-defined]
