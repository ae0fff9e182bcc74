"""One schedule through the API: itinerary items, city events and trips abroad each block
what they book, every booking is checked against all three kinds (and interpreters, with the
travel time between places), a 409 names each conflict with its kind and link, and an
override with a reason books anyway and is recorded."""

from __future__ import annotations

import json
from typing import Any

from conftest import InlineApi
from schedule_support import Desk, accepted_id, leg, refused
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.schedule.models import BookingOverride
from twinning.streams.store import OutboxEvent

# The mayor is in Tokyo from 08:00 to 18:00 Tokyo time on 1 May: 07:00-17:00 in Taipei.
TOKYO_LEG = leg("Tokyo", "Asia/Tokyo", "2026-05-01T08:00:00+09:00", "2026-05-01T18:00:00+09:00")


def last_payload(api: InlineApi, event_type: str) -> dict[str, Any]:
    with Session(api.engine) as session:
        body = session.scalars(
            select(OutboxEvent.body)
            .where(OutboxEvent.type == event_type)
            .order_by(OutboxEvent.id.desc())
        ).first()
    assert body is not None
    return dict(json.loads(body)["payload"])


def test_booking_the_mayor_while_a_trip_has_them_abroad_is_refused_naming_the_trip(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor = desk.official()
    trip_id = accepted_id(desk.plan_trip([mayor], TOKYO_LEG))
    visit_id = desk.visit()

    response = desk.book_item(
        visit_id, "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00", official_ids=[mayor]
    )

    (conflict,) = refused(response)
    assert conflict["kind"] == "trip"
    assert (conflict["id"], conflict["href"]) == (trip_id, f"/trips/{trip_id}")
    assert conflict["title"]["en"] == "Mayor's visit to Japan"
    assert (conflict["official_id"], conflict["leg"]) == (mayor, 0)
    assert (conflict["starts_at"], conflict["ends_at"]) == (
        "2026-04-30T23:00:00Z",
        "2026-05-01T09:00:00Z",
    )
    assert "1" in response.json()["detail"]


def test_an_override_with_a_reason_books_over_a_trip_and_records_it(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor = desk.official()
    trip_id = accepted_id(desk.plan_trip([mayor], TOKYO_LEG))
    visit_id = desk.visit()

    response = desk.book_item(
        visit_id,
        "2026-05-01T10:00:00+08:00",
        "2026-05-01T11:00:00+08:00",
        official_ids=[mayor],
        override={"reason": "the deputy mayor stands in; the mayor joins by video"},
    )

    item_id = accepted_id(response)
    item = inline_api.get(f"/visits/{visit_id}/itinerary/{item_id}").json()
    (override,) = item["overrides"]
    assert override["reason"] == "the deputy mayor stands in; the mayor joins by video"
    assert [(c["kind"], c["trip_id"]) for c in override["conflicts"]] == [("trip", trip_id)]


def test_touching_ends_are_not_a_conflict_even_given_in_different_zones(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor = desk.official()
    accepted_id(desk.plan_trip([mayor], TOKYO_LEG))
    visit_id = desk.visit()

    # 18:00 in Tokyo is 17:00 in Taipei: back just in time; and leaving at 07:00 Taipei time.
    accepted_id(
        desk.book_item(
            visit_id, "2026-05-01T17:00:00+08:00", "2026-05-01T18:00:00+08:00", official_ids=[mayor]
        )
    )
    accepted_id(
        desk.book_item(
            visit_id, "2026-05-01T06:00:00+08:00", "2026-05-01T07:00:00+08:00", official_ids=[mayor]
        )
    )
    # One minute into the trip is an overlap.
    refused(
        desk.book_item(
            visit_id, "2026-05-01T16:59:00+08:00", "2026-05-01T17:30:00+08:00", official_ids=[mayor]
        )
    )


def test_a_trip_planned_over_booked_items_and_city_events_lists_both_kinds(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor, deputy = desk.official(), desk.official("Deputy Mayor Su", 2)
    visit_id = desk.visit()
    item_id = accepted_id(
        desk.book_item(
            visit_id, "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00", official_ids=[mayor]
        )
    )
    event_id = accepted_id(
        desk.book_city_event(
            "2026-05-01T14:00:00+08:00", "2026-05-01T15:00:00+08:00", official_ids=[deputy]
        )
    )

    conflicts = refused(desk.plan_trip([mayor, deputy], TOKYO_LEG))

    assert [(c["kind"], c["id"], c["href"]) for c in conflicts] == [
        ("itinerary-item", item_id, f"/visits/{visit_id}/itinerary/{item_id}"),
        ("city-event", event_id, f"/city-events/{event_id}"),
    ]
    trip_id = accepted_id(
        desk.plan_trip([mayor, deputy], TOKYO_LEG, override={"reason": "invited by the governor"})
    )
    with Session(inline_api.engine) as session:
        (recorded,) = session.scalars(select(BookingOverride)).all()
    assert (recorded.kind, recorded.source_id) == ("trip", trip_id)
    assert recorded.reason == "invited by the governor"
    assert [c["kind"] for c in recorded.conflicts] == ["itinerary-item", "city-event"]


def test_a_trip_changed_onto_a_booking_is_checked_without_counting_itself(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor = desk.official()
    trip_id = accepted_id(desk.plan_trip([mayor], TOKYO_LEG))
    visit_id = desk.visit()
    accepted_id(
        desk.book_item(
            visit_id, "2026-05-02T10:00:00+08:00", "2026-05-02T11:00:00+08:00", official_ids=[mayor]
        )
    )
    # Renaming the trip books nothing new; moving it a day later collides with the item.
    desk.accepted(f"/trips/{trip_id}", {"title": {"en": "Japan"}}, method="PATCH")
    later = leg("Tokyo", "Asia/Tokyo", "2026-05-02T08:00:00+09:00", "2026-05-02T18:00:00+09:00")
    response = inline_api.patch(f"/trips/{trip_id}", json={"legs": [later]})
    assert [c["kind"] for c in refused(response)] == ["itinerary-item"]


def test_a_city_event_blocks_its_venue_and_the_officials_attending(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor, hall = desk.official(), desk.venue()
    event_id = accepted_id(
        desk.book_city_event(
            "2026-05-01T09:00:00+08:00",
            "2026-05-01T12:00:00+08:00",
            venue={"venue_id": hall},
            official_ids=[mayor],
        )
    )
    visit_id = desk.visit()

    at_the_hall = refused(
        desk.book_item(
            visit_id, "2026-05-01T11:00:00+08:00", "2026-05-01T13:00:00+08:00", venue_id=hall
        )
    )
    the_mayor = refused(
        desk.book_item(
            visit_id, "2026-05-01T11:00:00+08:00", "2026-05-01T13:00:00+08:00", official_ids=[mayor]
        )
    )
    another_event = refused(
        desk.book_city_event(
            "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00", venue={"venue_id": hall}
        )
    )

    assert [(c["kind"], c["id"], c.get("venue_id")) for c in at_the_hall] == [
        ("city-event", event_id, hall)
    ]
    assert [(c["kind"], c["official_id"]) for c in the_mayor] == [("city-event", mayor)]
    assert [(c["kind"], c["href"]) for c in another_event] == [
        ("city-event", f"/city-events/{event_id}")
    ]


def test_a_city_event_scheduled_or_changed_onto_an_item_is_refused_then_overridden(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor = desk.official()
    visit_id = desk.visit()
    item_id = accepted_id(
        desk.book_item(
            visit_id, "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00", official_ids=[mayor]
        )
    )
    event_id = accepted_id(
        desk.book_city_event("2026-05-01T11:00:00+08:00", "2026-05-01T12:00:00+08:00")
    )

    # The event starts when the item ends: the mayor can attend both.
    desk.accepted(f"/city-events/{event_id}", {"official_ids": [mayor]}, method="PATCH")
    earlier = {"starts_at": "2026-05-01T10:30:00+08:00", "official_ids": [mayor]}
    conflicts = refused(inline_api.patch(f"/city-events/{event_id}", json=earlier))
    assert [(c["kind"], c["id"]) for c in conflicts] == [("itinerary-item", item_id)]

    desk.accepted(
        f"/city-events/{event_id}",
        {**earlier, "override": {"reason": "the mayor leaves the call early"}},
        method="PATCH",
    )
    city_event = inline_api.get(f"/city-events/{event_id}").json()
    assert city_event["official_ids"] == [mayor]
    payload = last_payload(inline_api, "CityEventUpdated")
    assert payload["override"]["reason"] == "the mayor leaves the call early"
    assert payload["override"]["conflicts"][0]["item_id"] == item_id


def test_an_interpreter_booked_twice_is_a_conflict(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    chen = desk.interpreter()
    visit_id = desk.visit()
    item_id = accepted_id(
        desk.book_item(
            visit_id,
            "2026-05-01T10:00:00+08:00",
            "2026-05-01T11:00:00+08:00",
            interpreter_ids=[chen],
        )
    )

    (conflict,) = refused(
        desk.book_city_event(
            "2026-05-01T10:30:00+08:00", "2026-05-01T12:00:00+08:00", interpreter_ids=[chen]
        )
    )

    assert (conflict["kind"], conflict["id"], conflict["interpreter_id"]) == (
        "itinerary-item",
        item_id,
        chen,
    )
    assert conflict["travel_minutes"] is None


def test_an_interpreter_needs_the_travel_time_between_two_places(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    chen = desk.interpreter()
    hall, museum = desk.venue(), desk.venue("Hakka Museum")
    visit_id = desk.visit()
    accepted_id(
        desk.book_item(
            visit_id,
            "2026-05-01T10:00:00+08:00",
            "2026-05-01T11:00:00+08:00",
            venue_id=hall,
            interpreter_ids=[chen],
        )
    )

    # At the same hall, straight after: no travel.
    accepted_id(
        desk.book_item(
            visit_id,
            "2026-05-01T11:00:00+08:00",
            "2026-05-01T11:30:00+08:00",
            venue_id=hall,
            interpreter_ids=[chen],
        )
    )
    # Elsewhere 15 minutes later: the default 30 minutes of travel are not there.
    (conflict,) = refused(
        desk.book_item(
            visit_id,
            "2026-05-01T11:45:00+08:00",
            "2026-05-01T12:30:00+08:00",
            venue_id=museum,
            interpreter_ids=[chen],
        )
    )
    assert (conflict["interpreter_id"], conflict["travel_minutes"]) == (chen, 30)

    # The office knows the museum is 10 minutes from the hall.
    settings = inline_api.app.state.settings
    inline_api.app.state.settings = settings.model_copy(
        update={"venue_travel_minutes": {f"{museum}/{hall}": 10}}
    )
    accepted_id(
        desk.book_item(
            visit_id,
            "2026-05-01T11:45:00+08:00",
            "2026-05-01T12:30:00+08:00",
            venue_id=museum,
            interpreter_ids=[chen],
        )
    )


def test_an_unknown_interpreter_is_refused_by_field(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    response = desk.book_city_event(
        "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00", interpreter_ids=["nobody"]
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "interpreter_ids"
    response = desk.book_city_event(
        "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00", official_ids=["nobody"]
    )
    assert response.status_code == 422, response.text


def test_cancelled_city_events_and_trips_book_nothing(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor = desk.official()
    trip_id = accepted_id(desk.plan_trip([mayor], TOKYO_LEG))
    event_id = accepted_id(
        desk.book_city_event(
            "2026-05-01T19:00:00+08:00", "2026-05-01T21:00:00+08:00", official_ids=[mayor]
        )
    )
    desk.accepted(f"/trips/{trip_id}/cancel", {})
    desk.accepted(f"/city-events/{event_id}/cancel", {})
    visit_id = desk.visit()
    accepted_id(
        desk.book_item(
            visit_id, "2026-05-01T10:00:00+08:00", "2026-05-01T20:00:00+08:00", official_ids=[mayor]
        )
    )
