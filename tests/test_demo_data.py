"""The demo's files, checked without a running system: what they name exists, every visit's
steps are legal in their order, no itinerary item double-books an official or a venue unless
it says why (a conflict would refuse the load with 409), and everything is labelled invented.
`tests/test_cli.py` loads them through the API and checks what the office then holds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as clock_time
from itertools import combinations
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from twinning.demo import _read, demo_partners
from twinning.visits.lifecycle import STEP_BY_COMMAND, VisitStatus

CALENDAR = _read("calendar.json")
CRM = _read("crm.json")
VISITS = [CALENDAR["visit"], *_read("protocol.json")["visits"]]
EVENTS = _read("city_events.json")["events"]
PARTNERS = {p["names"]["en"] for p in demo_partners()}
MISSIONS = {m["names"]["en"] for m in CRM["missions"]}
OFFICIALS = {o["key"] for o in CALENDAR["officials"]}
VENUES = {v["key"]: v["venue"]["timezone"] for v in CALENDAR["venues"]}


def _final_state(visit: dict[str, Any]) -> VisitStatus:
    state = VisitStatus.REQUESTED
    for command, *_body in visit["steps"]:
        if command == "itinerary":
            assert state in (VisitStatus.REQUESTED, VisitStatus.APPROVED), visit["steps"]
            continue
        step = STEP_BY_COMMAND[command]
        assert state in step.source, (visit["request"]["purpose"], command, state)
        state = step.target
    return state


def test_every_visit_takes_legal_steps_and_every_state_is_shown() -> None:
    states = [_final_state(visit) for visit in VISITS]
    assert set(states) == set(VisitStatus)
    assert len(VISITS) >= 30
    for visit, state in zip(VISITS, states, strict=True):
        has_items = bool(visit.get("itinerary"))
        assert has_items == (["itinerary"] in visit["steps"]), visit["days"]
        if state in (VisitStatus.SCHEDULED, VisitStatus.COMPLETED):
            assert has_items, visit["days"]
        if state is VisitStatus.COMPLETED and "partner" in visit:
            assert visit["steps"][-1][1]["exchange"]["summary"], visit["days"]


def test_what_the_files_name_exists() -> None:
    for visit in VISITS:
        assert (
            visit.get("partner") in PARTNERS
            or visit.get("mission") in MISSIONS
            or "organisation" in visit
        )
        for item in visit.get("itinerary", []):
            assert set(item["officials"]) <= OFFICIALS
            assert item.get("venue", next(iter(VENUES))) in VENUES
    for contact in CRM["contacts"]:
        assert contact.get("partner") in PARTNERS or contact.get("mission") in MISSIONS
    for exchange in CRM["exchanges"]:
        assert set(exchange["partners"]) <= PARTNERS
    for trip in CRM["trips"]:
        for leg in trip["trip"]["legs"]:
            assert set(leg["partners"]) <= PARTNERS
        assert {o["official_id"] for o in trip["trip"]["officials"] if "official_id" in o} <= (
            OFFICIALS
        )
    for event in EVENTS:
        for invitee in event.get("invitations", {}).get("invitees", []):
            assert invitee.get("partner") in PARTNERS or invitee.get("mission") in MISSIONS
            assert event["day"] > 0  # invitations are sent and answered before it starts
        assert event.get("at_venue", next(iter(VENUES))) in VENUES


def _booking(visit: dict[str, Any], item: dict[str, Any], today: date) -> tuple[Any, ...]:
    zone = VENUES[item["venue"]] if "venue" in item else item["place"]["timezone"]
    day = today + timedelta(days=item["day"])
    start, end = (
        datetime.combine(day, clock_time.fromisoformat(item[at]), ZoneInfo(zone))
        for at in ("from", "to")
    )
    return start, end, set(item["officials"]), item.get("venue")


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2027, 3, 28), date(2027, 10, 31)])
def test_no_item_double_books_unless_it_says_why(today: date) -> None:
    """In the order the loader adds them; a later item that overlaps an earlier one for an
    official or a venue must carry an override with its reason, and only such an item."""
    items = [(v, i) for v in VISITS for i in v.get("itinerary", [])]
    overriding = set()
    for (v1, first), (v2, later) in combinations(items, 2):
        start1, end1, officials1, venue1 = _booking(v1, first, today)
        start2, end2, officials2, venue2 = _booking(v2, later, today)
        if start1 < end2 and start2 < end1 and (officials1 & officials2 or venue1 == venue2):
            assert "override" in later, (v2["days"], later["titles"]["en"])
            overriding.add(id(later))
    for visit, item in items:
        first, last = visit["days"]
        assert first <= item["day"] <= last, (visit["days"], item["titles"]["en"])
        assert ("override" in item) == (id(item) in overriding), item["titles"]["en"]
    assert len(overriding) == 1


def test_the_demo_is_labelled_invented() -> None:
    assert "DEMO" in CALENDAR["_note"] and "DEMO" in CRM["_note"]
    for visit in VISITS:
        assert "DEMO" in visit["request"]["purpose"]["en"]
        assert "demo" in visit["request"]["head_of_delegation"]["names"].get("en", "").lower()
    for official in CALENDAR["officials"]:
        assert "(demo)" in official["official"]["names"]["en"]
    assert all(m["names"]["en"].startswith("DEMO") for m in CRM["missions"])
    for contact in CRM["contacts"]:
        assert contact["name"].startswith("Demo") and contact["email"].endswith("@example.org")
    assert all("DEMO" in trip["trip"]["title"]["en"] for trip in CRM["trips"])
    assert all("(demo)" in event["title"]["en"] for event in EVENTS)
    for partner in demo_partners():
        assert set(partner["names"]) >= {"zh-TW", "en", "ja", "ko", "es"}
        assert partner.get("agreement_scope", "DEMO").startswith("DEMO")


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2027, 10, 2)])  # then one 29 Feb
def test_some_anniversaries_fall_in_the_coming_months(today: date) -> None:
    """Agreement dates given as an anniversary ahead (every 5 years counts, see
    `twinning.crm.stats`), so that the Today page always shows some."""
    raw = {p["names"]["en"]: p for p in _read("partners.json")}
    soon = 0
    for partner in demo_partners(today):
        anniversary = raw[partner["names"]["en"]].get("anniversary")
        if anniversary is not None:
            agreed = date.fromisoformat(partner["agreement_date"])
            assert anniversary["years"] % 5 == 0
            when = agreed.replace(year=agreed.year + anniversary["years"])
            assert 0 <= (when - today).days <= 180
            soon += 1
    assert soon >= 2


def _at(today: date, day: int, hour: str, zone: str) -> datetime:
    return datetime.combine(
        today + timedelta(days=day), clock_time.fromisoformat(hour), ZoneInfo(zone)
    )


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2027, 3, 28), date(2027, 10, 31)])
def test_no_trip_or_city_event_collides_with_another_booking(today: date) -> None:
    """Trips (their legs, even those cancelled later: a trip books until its cancellation is
    applied) and city events are checked against every booking of the one schedule: none
    of the demo's may collide, or the load is refused with 409."""
    bookings = [
        ("item", i["titles"]["en"], *_booking(v, i, today))
        for v in VISITS
        for i in v.get("itinerary", [])
    ]
    for trip in CRM["trips"]:
        travelling = {o["official_id"] for o in trip["trip"]["officials"] if "official_id" in o}
        for leg in trip["trip"]["legs"]:
            (first, last), (start, end), zone = leg["days"], leg["hours"], leg["timezone"]
            starts_at, ends_at = _at(today, first, start, zone), _at(today, last, end, zone)
            bookings.append(
                ("trip", trip["trip"]["title"]["en"], starts_at, ends_at, travelling, None)
            )
    for event in EVENTS:
        starts_at = _at(today, event["day"], event["from"], event["timezone"])
        ends_at = _at(today, event["day"], event["to"], event["timezone"])
        attending = set(event.get("officials", []))
        bookings.append(
            ("event", event["title"]["en"], starts_at, ends_at, attending, event.get("at_venue"))
        )
    for one, other in combinations(bookings, 2):
        if one[0] == other[0] == "item":
            continue  # the test above
        overlap = one[2] < other[3] and other[2] < one[3]
        shared = one[4] & other[4] or (one[5] is not None and one[5] == other[5])
        assert not (overlap and shared), (one[:2], other[:2])


def test_the_roster_and_what_it_is_booked_for_exist() -> None:
    roster = {i["key"] for i in CALENDAR["interpreters"]}
    assert len(roster) >= 3
    booked = [k for v in VISITS for i in v.get("itinerary", []) for k in i.get("interpreters", [])]
    booked += [k for event in EVENTS for k in event.get("interpreters", [])]
    assert booked and set(booked) <= roster
    for event in EVENTS:
        assert set(event.get("officials", [])) <= OFFICIALS
    assert all("(DEMO)" in i["interpreter"]["name"] for i in CALENDAR["interpreters"])
