"""The one schedule in the feeds: city events in the feeds of the officials attending (and
the office's), each leg of a trip in each travelling official's, and an interpreter's own
secret feed with their assignments; through the API and through the topics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import icalendar
from conftest import InlineApi, Projection, external_event
from schedule_support import Desk, accepted_id, leg
from twinning.api.deps import get_clock
from twinning.streams.events import INVITATIONS, VISITS

NOW = datetime(2026, 4, 15, tzinfo=UTC)


def feed_path(api: InlineApi, audience: dict[str, Any]) -> str:
    api.app.dependency_overrides[get_clock] = lambda: lambda: NOW
    response = api.post("/feed-links", json={"audience": audience, "language": "en"})
    assert response.status_code == 201, response.text
    url = str(response.json()["url"])
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def summaries(api: InlineApi, path: str) -> dict[str, str]:
    """UID -> SUMMARY of the events a calendar client gets at `path`."""
    response = api.get(path)
    assert response.status_code == 200, response.text
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(e["UID"]): str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}


def test_a_city_event_is_in_the_feeds_of_the_officials_attending_and_the_office(
    inline_api: InlineApi,
) -> None:
    desk = Desk(inline_api)
    mayor, deputy = desk.official(), desk.official("Deputy Mayor Su", 2)
    event_id = accepted_id(
        desk.book_city_event(
            "2026-05-01T09:00:00+08:00", "2026-05-01T12:00:00+08:00", official_ids=[mayor]
        )
    )
    uid = f"city-event-{event_id}@twinning"

    assert (
        summaries(inline_api, feed_path(inline_api, {"kind": "official", "official_id": mayor}))[
            uid
        ]
        == "Smart City Forum"
    )
    assert uid in summaries(inline_api, feed_path(inline_api, {"kind": "office"}))
    deputy_feed = feed_path(inline_api, {"kind": "official", "official_id": deputy})
    assert uid not in summaries(inline_api, deputy_feed)

    # The deputy takes the mayor's place: the event moves to the deputy's feed.
    desk.accepted(f"/city-events/{event_id}", {"official_ids": [deputy]}, method="PATCH")
    assert uid in summaries(inline_api, deputy_feed)


def test_each_leg_of_a_trip_is_in_each_travelling_officials_feed(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    mayor, deputy = desk.official(), desk.official("Deputy Mayor Su", 2)
    trip_id = accepted_id(
        desk.plan_trip(
            [mayor, deputy],
            leg("Tokyo", "Asia/Tokyo", "2026-05-01T08:00:00+09:00", "2026-05-02T18:00:00+09:00"),
            leg("Osaka", "Asia/Tokyo", "2026-05-03T08:00:00+09:00", "2026-05-04T18:00:00+09:00"),
        )
    )
    legs = {f"trip-{trip_id}-leg-{n}@twinning" for n in (0, 1)}

    for official in (mayor, deputy):
        feed = summaries(
            inline_api, feed_path(inline_api, {"kind": "official", "official_id": official})
        )
        assert legs <= feed.keys()


def test_an_interpreter_sees_their_assignments_in_their_own_feed(inline_api: InlineApi) -> None:
    desk = Desk(inline_api)
    chen, wu = desk.interpreter(), desk.interpreter("Wu Chia-hui")
    visit_id = desk.visit()
    item_id = accepted_id(
        desk.book_item(
            visit_id,
            "2026-05-01T10:00:00+08:00",
            "2026-05-01T11:00:00+08:00",
            interpreter_ids=[chen],
        )
    )
    event_id = accepted_id(
        desk.book_city_event(
            "2026-05-02T10:00:00+08:00", "2026-05-02T11:00:00+08:00", interpreter_ids=[chen]
        )
    )

    feed = summaries(
        inline_api, feed_path(inline_api, {"kind": "interpreter", "interpreter_id": chen})
    )
    assert feed[f"itinerary-{item_id}@twinning"] == "Courtesy call on the mayor"
    assert feed[f"city-event-{event_id}@twinning"] == "Smart City Forum"
    others = summaries(
        inline_api, feed_path(inline_api, {"kind": "interpreter", "interpreter_id": wu})
    )
    assert not others
    links = inline_api.get("/feed-links", params={"interpreter_id": chen}).json()
    assert [link["audience"] for link in links] == [f"interpreter:{chen}"]


def test_a_feed_link_for_an_unknown_interpreter_is_refused(inline_api: InlineApi) -> None:
    response = inline_api.post(
        "/feed-links", json={"audience": {"kind": "interpreter", "interpreter_id": "nobody"}}
    )
    assert response.status_code == 404, response.text
    assert response.json()["kind"] == "interpreter"


def test_city_events_and_interpreters_from_another_system_reach_the_feeds(
    projection: Projection,
) -> None:
    """Another system produces onto the topics: a roster entry, a city event with an official
    attending and an interpreter, and an event of the old shape without them (still valid)."""
    mayor, chen, event_id, old_id = "mayor", "chen", str(uuid.uuid4()), str(uuid.uuid4())
    official = {"names": {"en": "Mayor Lin"}, "title": {"en": "Mayor"}, "protocol_rank": 1}
    interpreter = {"name": "Chen", "language_pairs": [{"source": "zh-TW", "target": "en"}]}
    city_event: dict[str, Any] = {
        "kind": "forum",
        "title": {"en": "Forum"},
        "starts_at": "2026-05-01T09:00:00+08:00",
        "ends_at": "2026-05-01T12:00:00+08:00",
        "timezone": "Asia/Taipei",
    }
    outcomes = projection.apply(
        external_event("OfficialRegistered", official, aggregate_id=mayor),
        external_event("InterpreterRegistered", interpreter, aggregate_id=chen),
        topic=VISITS,
    )
    outcomes += projection.apply(
        external_event(
            "CityEventScheduled",
            {**city_event, "official_ids": [mayor], "interpreter_ids": [chen]},
            aggregate_id=event_id,
        ),
        external_event("CityEventScheduled", city_event, aggregate_id=old_id),
        topic=INVITATIONS,
    )
    assert outcomes == ["applied"] * 4

    with projection.engine.connect() as connection:
        audiences = {
            (row.entry_uid, row.audience)
            for row in connection.exec_driver_sql(
                "SELECT entry_uid, audience FROM calendar_audiences"
            )
        }
    uid, old_uid = f"city-event-{event_id}@twinning", f"city-event-{old_id}@twinning"
    assert {(uid, "office"), (uid, f"official:{mayor}"), (uid, f"interpreter:{chen}")} <= audiences
    assert {audience for entry, audience in audiences if entry == old_uid} == {"office"}
