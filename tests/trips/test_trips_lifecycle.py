"""Trips abroad: planned, changed, then completed (recording the exchange with the partner
cities visited) or cancelled; legs keep their destinations' time zones."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import InlineApi, command, external_event, sample_partner
from twinning.streams.store import OutboxEvent
from twinning.trips.models import Trip


def leg(
    city: str, zone: str, start: str, end: str, partner_ids: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "city": {"en": city},
        "country": extra.pop("country", "JP"),
        "timezone": zone,
        "start": start,
        "end": end,
        "partner_ids": partner_ids,
        **extra,
    }


@pytest.fixture
def partners(inline_api: InlineApi) -> list[str]:
    return [
        str(command(inline_api, "POST", "/partners", json=sample_partner(n))["id"])
        for n in range(2)
    ]


def sample_trip(partners: list[str], **overrides: Any) -> dict[str, Any]:
    first, second = partners
    return {
        "title": {"en": "Mayor's visit to Japan", "zh-TW": "市長訪日"},
        "officials": [{"official_id": "mayor"}, {"name": "Director Lin"}],
        "legs": [
            leg(
                "Testville",
                "Asia/Tokyo",
                "2025-05-01T23:30:00+00:00",
                "2025-05-03T10:00:00+09:00",
                [first],
                itinerary={"en": "Sister-city anniversary"},
            ),
            leg(
                "Osaka", "Asia/Tokyo", "2025-05-03T12:00:00+09:00", "2025-05-04T18:00:00+09:00", []
            ),
            leg(
                "Honolulu",
                "Pacific/Honolulu",
                "2025-05-05T09:00:00-10:00",
                "2025-05-06T12:00:00-10:00",
                [first, second],
                country="US",
            ),
        ],
        **overrides,
    }


def plan(inline_api: InlineApi, partners: list[str], **overrides: Any) -> str:
    return str(command(inline_api, "POST", "/trips", json=sample_trip(partners, **overrides))["id"])


def test_a_planned_trip_keeps_its_legs_in_utc_and_in_their_own_time_zones(
    inline_api: InlineApi, partners: list[str]
) -> None:
    trip = inline_api.get(f"/trips/{plan(inline_api, partners)}").json()
    assert trip["status"] == "planned"
    first, _, hawaii = trip["legs"]
    assert first["starts_at"] == "2025-05-01T23:30:00Z"
    assert first["starts_local"] == "2025-05-02T08:30:00+09:00"
    assert hawaii["ends_at"] == "2025-05-06T22:00:00Z"
    assert hawaii["ends_local"] == "2025-05-06T12:00:00-10:00"
    assert (trip["starts_at"], trip["ends_at"]) == ("2025-05-01T23:30:00Z", "2025-05-06T22:00:00Z")
    assert first["itinerary"] == {"en": "Sister-city anniversary"}


def test_completing_a_trip_records_one_outbound_exchange_with_the_partners_visited(
    inline_api: InlineApi, partners: list[str]
) -> None:
    trip_id = plan(inline_api, partners)
    accepted = command(inline_api, "POST", f"/trips/{trip_id}/complete", json={"field": "culture"})

    trip = inline_api.get(f"/trips/{trip_id}").json()
    assert trip["status"] == "completed"
    assert trip["exchange_id"] == accepted["exchange_id"]
    exchange = inline_api.get(f"/exchanges/{accepted['exchange_id']}").json()
    assert exchange["partner_ids"] == partners
    assert (exchange["direction"], exchange["field"], exchange["participants"]) == (
        "outbound",
        "culture",
        2,
    )
    assert (exchange["source_kind"], exchange["source_id"]) == ("trip", trip_id)
    assert exchange["summary"] == sample_trip(partners)["title"]
    assert exchange["date"] == "2025-05-02"  # the first partner visit, in Tokyo's calendar
    stats = inline_api.get(f"/partners/{partners[1]}/stats").json()
    assert (stats["exchanges"], stats["last_exchange_date"]) == (1, "2025-05-02")


def test_the_trips_completion_and_its_exchange_commit_together(
    inline_api: InlineApi, partners: list[str]
) -> None:
    trip_id = plan(inline_api, partners)
    accepted = inline_api.post(f"/trips/{trip_id}/complete")
    assert accepted.status_code == 202
    committed = {(row.type, row.event_id) for row in inline_api.rows(OutboxEvent)}
    assert ("TripCompleted", accepted.json()["event_id"]) in committed
    assert ("ExchangeRecorded", accepted.json()["exchange_event_id"]) in committed


def test_a_trip_that_visited_no_partner_records_no_exchange(
    inline_api: InlineApi, partners: list[str]
) -> None:
    trip = sample_trip(partners)
    trip["legs"] = [
        leg(
            "Geneva",
            "Europe/Zurich",
            "2025-06-01T09:00:00+02:00",
            "2025-06-03T17:00:00+02:00",
            [],
            country="CH",
        )
    ]
    trip_id = command(
        inline_api,
        "POST",
        "/trips",
        json={**trip, "international_event": {"en": "UN Habitat forum"}},
    )["id"]
    accepted = command(inline_api, "POST", f"/trips/{trip_id}/complete")
    assert (accepted["exchange_id"], accepted["exchange_event_id"]) == (None, None)
    assert inline_api.get("/exchanges").json() == []


def test_a_cancelled_trip_keeps_its_reason(inline_api: InlineApi, partners: list[str]) -> None:
    trip_id = plan(inline_api, partners)
    command(inline_api, "POST", f"/trips/{trip_id}/cancel", json={"reason": "Typhoon"})
    trip = inline_api.get(f"/trips/{trip_id}").json()
    assert (trip["status"], trip["cancel_reason"]) == ("cancelled", "Typhoon")


def test_a_planned_trip_can_change_its_legs_and_officials(
    inline_api: InlineApi, partners: list[str]
) -> None:
    trip_id = plan(inline_api, partners)
    new_legs = [
        leg(
            "Busan",
            "Asia/Seoul",
            "2025-07-01T09:00:00+09:00",
            "2025-07-02T09:00:00+09:00",
            [partners[1]],
            country="KR",
        )
    ]
    command(
        inline_api,
        "PATCH",
        f"/trips/{trip_id}",
        json={"legs": new_legs, "title": {"ko": "시장 방한"}},
    )
    trip = inline_api.get(f"/trips/{trip_id}").json()
    assert [leg["city"] for leg in trip["legs"]] == [{"en": "Busan"}]
    assert trip["title"] == {"en": "Mayor's visit to Japan", "zh-TW": "市長訪日", "ko": "시장 방한"}
    assert trip["starts_at"] == "2025-07-01T00:00:00Z"
    assert inline_api.rebuild() > 0
    assert inline_api.get(f"/trips/{trip_id}").json()["legs"] == trip["legs"]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("complete", "complete"),
        ("complete", "cancel"),
        ("cancel", "complete"),
        ("cancel", "cancel"),
    ],
)
def test_a_finished_trip_refuses_another_transition_with_409_naming_its_state(
    inline_api: InlineApi, partners: list[str], first: str, then: str
) -> None:
    trip_id = plan(inline_api, partners)
    command(inline_api, "POST", f"/trips/{trip_id}/{first}")
    refused = inline_api.post(f"/trips/{trip_id}/{then}")
    assert refused.status_code == 409
    state = {"complete": "completed", "cancel": "cancelled"}[first]
    assert refused.json()["current_state"] == state
    assert state in refused.json()["detail"]


def test_a_finished_trip_cannot_be_changed(inline_api: InlineApi, partners: list[str]) -> None:
    trip_id = plan(inline_api, partners)
    command(inline_api, "POST", f"/trips/{trip_id}/complete")
    refused = inline_api.patch(f"/trips/{trip_id}", json={"title": {"en": "Later"}})
    assert refused.status_code == 409
    assert refused.json()["current_state"] == "completed"


def test_trips_are_listed_by_status_and_year(inline_api: InlineApi, partners: list[str]) -> None:
    done = plan(inline_api, partners)
    planned = plan(
        inline_api,
        partners,
        legs=[
            leg("Kyoto", "Asia/Tokyo", "2026-04-01T09:00:00+09:00", "2026-04-02T09:00:00+09:00", [])
        ],
    )
    command(inline_api, "POST", f"/trips/{done}/complete")

    def ids(**params: Any) -> list[str]:
        return [t["id"] for t in inline_api.get("/trips", params=params).json()]

    assert ids() == [done, planned]
    assert ids(status="planned") == [planned]
    assert ids(year=2025) == [done]
    assert inline_api.get("/trips", params={"status": "lost"}).status_code == 422


def test_trip_events_from_an_external_producer_are_applied_like_the_apis(
    inline_api: InlineApi, partners: list[str]
) -> None:
    def message(kind: str, payload: dict[str, Any]) -> bytes:
        return external_event(kind, payload, aggregate_id="travel-office-17", actor="travel-office")

    outcomes = inline_api.apply(
        message("TripCancelled", {"reason": "Budget"}),  # before the plan: parked
        message("TripPlanned", sample_trip(partners)),
        topic="twinning.exchanges",
    )
    assert outcomes == ["parked", "applied"]
    [trip] = inline_api.rows(Trip)
    assert (trip.id, trip.status, trip.cancel_reason) == ("travel-office-17", "cancelled", "Budget")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": {}}, "title"),
        ({"officials": []}, "officials"),
        ({"officials": [{}]}, "officials"),
        ({"legs": []}, "legs"),
        (
            {"legs": [leg("X", "Mars/Base", "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", [])]},
            "timezone",
        ),
        (
            {"legs": [leg("X", "Asia/Tokyo", "2025-01-01T00:00:00", "2025-01-02T00:00:00Z", [])]},
            "start",
        ),
        (
            {"legs": [leg("X", "Asia/Tokyo", "2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z", [])]},
            "legs",
        ),
        (
            {
                "legs": [
                    leg("X", "Asia/Tokyo", "2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z", []),
                    leg("Y", "Asia/Tokyo", "2025-01-02T00:00:00Z", "2025-01-04T00:00:00Z", []),
                ]
            },
            "legs",
        ),
        (
            {
                "legs": [
                    leg(
                        "X",
                        "Asia/Tokyo",
                        "2025-01-01T00:00:00Z",
                        "2025-01-02T00:00:00Z",
                        [],
                        country="XX",
                    )
                ]
            },
            "country",
        ),
        ({"purpose": "fun"}, "purpose"),
    ],
)
def test_an_invalid_trip_is_refused_with_422_naming_the_field(
    inline_api: InlineApi, partners: list[str], change: dict[str, Any], field: str
) -> None:
    response = inline_api.post("/trips", json={**sample_trip(partners), **change})
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"]), response.json()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("", {}, "body"),
        ("", {"legs": None}, "legs"),
        ("/complete", {"field": "astrology"}, "field"),
        ("/complete", {"participants": -3}, "participants"),
        ("/cancel", {"reason": ""}, "reason"),
    ],
)
def test_invalid_trip_commands_are_refused_with_422_naming_the_field(
    inline_api: InlineApi, partners: list[str], url: str, body: dict[str, Any], field: str
) -> None:
    trip_id = plan(inline_api, partners)
    method = "PATCH" if url == "" else "POST"
    response = inline_api.request(method, f"/trips/{trip_id}{url}", json=body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"]), response.json()


def test_unknown_trips_and_partners_answer_404(inline_api: InlineApi, partners: list[str]) -> None:
    assert inline_api.get("/trips/nope").status_code == 404
    assert inline_api.patch("/trips/nope", json={"title": {"en": "x"}}).status_code == 404
    assert inline_api.post("/trips/nope/complete").status_code == 404
    assert inline_api.post("/trips/nope/cancel").status_code == 404
    unknown_partner = sample_trip(partners)
    unknown_partner["legs"][0]["partner_ids"] = ["nowhere"]
    response = inline_api.post("/trips", json=unknown_partner)
    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]
