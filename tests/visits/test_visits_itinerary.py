"""Itineraries through the API: local times, double bookings refused (or overridden with a
reason), half-open intervals compared in UTC, and removed items kept for the calendars."""

from __future__ import annotations

import json
from typing import Any

from conftest import InlineApi
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.streams.store import OutboxEvent
from visits_support import Office, accepted_id, sample_item

TEN, ELEVEN, NOON = (
    "2026-05-01T10:00:00+08:00",
    "2026-05-01T11:00:00+08:00",
    "2026-05-01T12:00:00+08:00",
)


def items(api: InlineApi, visit_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/visits/{visit_id}/itinerary", params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def last_payload(api: InlineApi, event_type: str) -> dict[str, Any]:
    with Session(api.engine) as session:
        body = session.scalars(
            select(OutboxEvent.body)
            .where(OutboxEvent.type == event_type)
            .order_by(OutboxEvent.id.desc())
        ).first()
    assert body is not None, f"no {event_type} was recorded"
    return dict(json.loads(body)["payload"])


def test_an_item_at_a_city_venue_shows_utc_and_the_venue_local_time(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    visit_id, venue_id, mayor = office.visit("approve"), office.venue(), office.official()

    response = office.add_item(
        visit_id,
        "2026-05-01T11:00:00+09:00",  # given in Tokyo time; the venue is in Taipei
        "2026-05-01T12:00:00+09:00",
        venue_id=venue_id,
        official_ids=[mayor],
        interpreter="Ms Lin",
        gift_exchange="Hakka blue dye scarf",
        press=True,
        notes_shared="Enter by the east gate",
    )

    item_id = accepted_id(response)
    assert response.headers["location"] == f"/visits/{visit_id}/itinerary/{item_id}"
    item = inline_api.get(f"/visits/{visit_id}/itinerary/{item_id}").json()
    assert (item["starts_at"], item["ends_at"]) == ("2026-05-01T02:00:00Z", "2026-05-01T03:00:00Z")
    assert item["timezone"] == "Asia/Taipei"
    assert (item["local_starts_at"], item["local_ends_at"]) == (TEN, ELEVEN)
    assert (item["venue_id"], item["place"], item["official_ids"]) == (venue_id, None, [mayor])
    assert (item["interpreter"], item["press"], item["sequence"]) == ("Ms Lin", True, 0)
    assert item["notes_shared"] == "Enter by the east gate"
    assert items(inline_api, visit_id) == [item]


def test_an_item_outside_shows_the_time_of_its_own_zone(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    visit_id = office.visit()
    place = {"names": {"en": "Osaka Expo site"}, "timezone": "Asia/Tokyo"}

    item_id = accepted_id(office.add_item(visit_id, TEN, ELEVEN, place=place, interpreter=True))

    item = inline_api.get(f"/visits/{visit_id}/itinerary/{item_id}").json()
    assert (item["timezone"], item["local_starts_at"]) == (
        "Asia/Tokyo",
        "2026-05-01T11:00:00+09:00",
    )
    assert (item["place"]["names"], item["venue_id"], item["interpreter"]) == (
        place["names"],
        None,
        True,
    )


def test_booking_a_venue_twice_at_overlapping_times_is_refused_with_the_conflicts(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    venue_id = office.venue()
    first_visit, second_visit = office.visit("approve"), office.visit()
    first_item = accepted_id(office.add_item(first_visit, TEN, NOON, venue_id=venue_id))

    response = office.add_item(second_visit, ELEVEN, "2026-05-01T13:00:00+08:00", venue_id=venue_id)

    assert response.status_code == 409
    assert response.json()["conflicts"] == [
        {
            "kind": "itinerary-item",
            "id": first_item,
            "href": f"/visits/{first_visit}/itinerary/{first_item}",
            "title": {"en": "Courtesy call on the mayor", "zh-TW": "拜會市長"},
            "visit_id": first_visit,
            "item_id": first_item,
            "city_event_id": None,
            "trip_id": None,
            "leg": None,
            "official_id": None,
            "venue_id": venue_id,
            "interpreter_id": None,
            "travel_minutes": None,
            "starts_at": "2026-05-01T02:00:00Z",
            "ends_at": "2026-05-01T04:00:00Z",
        }
    ]
    assert items(inline_api, second_visit) == []


def test_booking_an_official_twice_names_each_official_in_conflict(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    mayor, deputy, director = office.official(0), office.official(1), office.official(2)
    visit_id = office.visit()
    place = {"names": {"en": "Science Park"}, "timezone": "Asia/Taipei"}
    booked = accepted_id(
        office.add_item(visit_id, TEN, NOON, place=place, official_ids=[mayor, deputy])
    )

    response = office.add_item(
        office.visit(), ELEVEN, NOON, place=place, official_ids=[director, deputy, mayor]
    )

    assert response.status_code == 409
    conflicts = response.json()["conflicts"]
    assert sorted((c["item_id"], c["official_id"]) for c in conflicts) == sorted(
        [(booked, mayor), (booked, deputy)]
    )
    assert all(c["venue_id"] is None for c in conflicts)


def test_touching_intervals_do_not_conflict_even_given_in_different_zones(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    venue_id, mayor = office.venue(), office.official()
    visit_id = office.visit()
    accepted_id(office.add_item(visit_id, TEN, ELEVEN, venue_id=venue_id, official_ids=[mayor]))

    after = office.add_item(
        visit_id,
        "2026-05-01T12:00:00+09:00",
        "2026-05-01T13:00:00+09:00",
        venue_id=venue_id,
        official_ids=[mayor],
    )
    before = office.add_item(
        visit_id,
        "2026-05-01T01:00:00Z",
        "2026-05-01T02:00:00Z",
        venue_id=venue_id,
        official_ids=[mayor],
    )

    assert after.status_code == 202, after.text
    assert before.status_code == 202, before.text
    assert len(items(inline_api, visit_id)) == 3


def test_an_overlap_is_found_when_the_times_are_given_in_different_zones(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    venue_id = office.venue()
    accepted_id(office.add_item(office.visit(), TEN, ELEVEN, venue_id=venue_id))

    # 10:59 in Taipei is 02:59 UTC and 11:59 in Tokyo: one minute of overlap.
    response = office.add_item(
        office.visit(), "2026-05-01T02:59:00Z", "2026-05-01T12:30:00+09:00", venue_id=venue_id
    )

    assert response.status_code == 409
    assert len(response.json()["conflicts"]) == 1


def test_an_override_with_a_reason_books_anyway_and_is_recorded(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    venue_id = office.venue()
    first_visit, second_visit = office.visit(), office.visit()
    booked = accepted_id(office.add_item(first_visit, TEN, NOON, venue_id=venue_id))

    response = office.add_item(
        second_visit, ELEVEN, NOON, venue_id=venue_id, override={"reason": "joint ceremony"}
    )

    item_id = accepted_id(response)
    override = last_payload(inline_api, "ItineraryItemAdded")["override"]
    assert override["reason"] == "joint ceremony"
    assert [(c["visit_id"], c["item_id"]) for c in override["conflicts"]] == [(first_visit, booked)]
    item = inline_api.get(f"/visits/{second_visit}/itinerary/{item_id}").json()
    assert item["overrides"] == [override]


def test_an_override_without_a_conflict_records_nothing(inline_api: InlineApi) -> None:
    office = Office(inline_api)

    accepted_id(
        office.add_item(
            office.visit(), TEN, NOON, venue_id=office.venue(), override={"reason": "x"}
        )
    )

    assert last_payload(inline_api, "ItineraryItemAdded")["override"] is None


def test_removed_items_and_declined_or_cancelled_visits_book_nothing(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    venue_id = office.venue()
    removed_from = office.visit()
    removed = accepted_id(office.add_item(removed_from, TEN, NOON, venue_id=venue_id))
    accepted_id(inline_api.delete(f"/visits/{removed_from}/itinerary/{removed}"))
    for step in ("decline", "cancel"):
        closed = office.visit()
        accepted_id(office.add_item(closed, TEN, NOON, venue_id=venue_id))
        accepted_id(inline_api.post(f"/visits/{closed}/{step}"))

    response = office.add_item(office.visit(), TEN, NOON, venue_id=venue_id)

    assert response.status_code == 202, response.text


def test_a_completed_visit_still_books_its_venue(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    venue_id = office.venue()
    visit_id = office.visit("approve")
    accepted_id(office.add_item(visit_id, TEN, NOON, venue_id=venue_id))
    accepted_id(inline_api.post(f"/visits/{visit_id}/schedule"))
    accepted_id(inline_api.post(f"/visits/{visit_id}/complete"))

    assert office.add_item(office.visit(), TEN, NOON, venue_id=venue_id).status_code == 409


def test_a_change_is_checked_for_conflicts_without_counting_the_item_itself(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    venue_id, hall = office.venue(0), office.venue(1)
    visit_id = office.visit()
    item_id = accepted_id(office.add_item(visit_id, TEN, ELEVEN, venue_id=venue_id))
    other = accepted_id(office.add_item(office.visit(), TEN, NOON, venue_id=hall))
    url = f"/visits/{visit_id}/itinerary/{item_id}"

    longer = inline_api.patch(url, json={"ends_at": NOON, "titles": {"ja": "表敬訪問"}})
    into_the_hall = inline_api.patch(url, json={"venue_id": hall})

    assert longer.status_code == 202, longer.text
    assert into_the_hall.status_code == 409
    assert [c["item_id"] for c in into_the_hall.json()["conflicts"]] == [other]
    item = inline_api.get(url).json()
    assert (item["venue_id"], item["local_ends_at"], item["sequence"]) == (venue_id, NOON, 1)
    assert item["titles"] == {**sample_item(TEN, NOON)["titles"], "ja": "表敬訪問"}


def test_moving_an_item_outside_clears_its_venue_and_changes_its_zone(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    visit_id = office.visit()
    item_id = accepted_id(office.add_item(visit_id, TEN, ELEVEN, venue_id=office.venue()))
    url = f"/visits/{visit_id}/itinerary/{item_id}"
    place = {"names": {"en": "Tokyo office"}, "timezone": "Asia/Tokyo"}

    accepted_id(inline_api.patch(url, json={"place": place, "official_ids": [office.official()]}))

    item = inline_api.get(url).json()
    assert (item["venue_id"], item["place"]["names"], item["timezone"]) == (
        None,
        place["names"],
        "Asia/Tokyo",
    )
    assert len(item["official_ids"]) == 1


def test_a_removed_item_stays_listed_as_removed_and_cannot_change(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    visit_id = office.visit()
    item_id = accepted_id(office.add_item(visit_id, TEN, ELEVEN, venue_id=office.venue()))
    url = f"/visits/{visit_id}/itinerary/{item_id}"

    response = inline_api.request("DELETE", url, json={"reason": "rain"})

    assert accepted_id(response) == item_id
    assert items(inline_api, visit_id) == []
    [item] = items(inline_api, visit_id, include_removed=True)
    assert (item["removed"], item["removal_reason"], item["sequence"]) == (True, "rain", 1)
    for again in (inline_api.patch(url, json={"press": True}), inline_api.delete(url)):
        assert again.status_code == 409
        assert again.json()["current_state"] == "removed"
        assert item_id in again.json()["detail"]


def test_the_itinerary_of_a_closed_visit_cannot_change(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    venue_id = office.venue()
    visit_id = office.visit()
    item_id = accepted_id(office.add_item(visit_id, TEN, ELEVEN, venue_id=venue_id))
    accepted_id(inline_api.post(f"/visits/{visit_id}/cancel"))
    url = f"/visits/{visit_id}/itinerary/{item_id}"

    for response in (
        office.add_item(visit_id, NOON, "2026-05-01T13:00:00+08:00", venue_id=venue_id),
        inline_api.patch(url, json={"press": True}),
        inline_api.delete(url),
    ):
        assert response.status_code == 409
        assert response.json()["current_state"] == "cancelled"
