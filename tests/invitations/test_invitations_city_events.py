"""City events through the API: schedule, read, change, list, cancel, complete with exchanges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import InlineApi
from invitations_office import Office, sample_city_event

AFTER_START = datetime(2026, 10, 10, 2, 0, tzinfo=UTC)  # 10:00 in Taipei on the festival day
COMPLETION = {"field": "culture", "summary": {"en": "Eight partner troupes performed."}}


@pytest.fixture
def office(inline_api: InlineApi) -> Office:
    return Office(inline_api)


def test_a_scheduled_event_is_read_back_in_utc_with_its_zone_and_local_days(
    office: Office,
) -> None:
    response = office.post(
        "/city-events",
        sample_city_event(
            starts_at="2026-10-10T20:00:00+08:00",
            ends_at="2026-10-11T00:00:00+08:00",
            venue={"venue_id": "venue-hall-1"},
        ),
    )
    city_event_id = office.accepted(response)["id"]
    assert response.headers["Location"] == f"/city-events/{city_event_id}"

    city_event = office.get(f"/city-events/{city_event_id}")
    assert city_event["starts_at"] == "2026-10-10T12:00:00Z"
    assert city_event["ends_at"] == "2026-10-10T16:00:00Z"
    assert city_event["timezone"] == "Asia/Taipei"
    assert (city_event["start_date"], city_event["end_date"]) == ("2026-10-10", "2026-10-10")
    assert city_event["venue"] == {"venue_id": "venue-hall-1", "place": None}
    assert city_event["video_link"] == "https://video.example/festival"
    assert (city_event["status"], city_event["open_to_partners"]) == ("scheduled", True)
    assert city_event["title"]["zh-TW"] == "國際文化節"


def test_an_update_changes_only_what_it_names_and_adds_languages(office: Office) -> None:
    city_event_id = office.city_event()
    office.accepted(
        office.patch(
            f"/city-events/{city_event_id}",
            {
                "title": {"ja": "国際文化祭"},
                "ends_at": "2026-10-11T17:00:00+08:00",
                "video_link": None,
                "open_to_partners": False,
            },
        )
    )

    city_event = office.get(f"/city-events/{city_event_id}")
    assert set(city_event["title"]) == {"zh-TW", "en", "ja"}
    assert city_event["end_date"] == "2026-10-11"
    assert city_event["video_link"] is None
    assert city_event["open_to_partners"] is False
    assert city_event["venue"] == {"venue_id": None, "place": "Arts Plaza"}
    assert city_event["version"] == 2


def test_the_list_filters_by_local_days_and_status(office: Office) -> None:
    october = office.city_event()
    november = office.city_event(
        starts_at="2026-11-02T09:00:00+09:00", ends_at="2026-11-03T12:00:00+09:00"
    )
    cancelled = office.city_event(
        starts_at="2026-11-20T09:00:00+08:00", ends_at="2026-11-20T12:00:00+08:00"
    )
    office.accepted(office.post(f"/city-events/{cancelled}/cancel", {"reason": "Typhoon"}))

    def ids(**params: str) -> list[str]:
        return [e["id"] for e in office.get("/city-events", **params)]

    assert ids() == [october, november, cancelled]
    assert ids(**{"from": "2026-11-03", "to": "2026-11-30"}) == [november, cancelled]
    assert ids(to="2026-10-10") == [october]
    assert ids(status="scheduled") == [october, november]
    assert ids(status="cancelled", kind="festival") == [cancelled]
    assert ids(limit="1", offset="1") == [november]


def test_a_cancelled_event_refuses_every_further_step_with_409_naming_its_state(
    office: Office,
) -> None:
    city_event_id = office.city_event()
    [invitation_id] = office.invite(city_event_id, ("partner", office.partner()))
    office.accepted(office.post(f"/city-events/{city_event_id}/cancel"))
    office.clock.now = AFTER_START

    refused = [
        office.post(f"/city-events/{city_event_id}/cancel"),
        office.patch(f"/city-events/{city_event_id}", {"kind": "forum"}),
        office.post(f"/city-events/{city_event_id}/complete", COMPLETION),
        office.post(
            f"/city-events/{city_event_id}/invitations",
            {"answer_by": "2026-09-01", "invitees": [{"kind": "mission", "id": "m"}]},
        ),
        office.rsvp(invitation_id, "declined"),
        office.post(f"/invitations/{invitation_id}/withdraw"),
    ]

    assert [r.status_code for r in refused] == [409] * len(refused)
    assert {r.json()["current_state"] for r in refused} == {"cancelled"}
    assert office.get(f"/city-events/{city_event_id}")["status"] == "cancelled"


def test_inviting_after_the_event_started_is_refused_with_409(office: Office) -> None:
    city_event_id = office.city_event()
    office.clock.now = AFTER_START
    body = {"answer_by": "2026-10-01", "invitees": [{"kind": "mission", "id": "m-1"}]}

    response = office.post(f"/city-events/{city_event_id}/invitations", body)

    assert response.status_code == 409
    assert response.json()["current_state"] == "started"
    assert "started at 2026-10-10T01:00:00+00:00" in response.json()["detail"]


def test_completing_records_an_inbound_exchange_with_the_partners_who_accepted(
    office: Office,
) -> None:
    city_event_id = office.city_event()
    came, watched, declined, silent = (office.partner(n) for n in range(4))
    ids = office.invite(
        city_event_id,
        *[("partner", p) for p in (came, watched, declined, silent)],
        ("mission", "m-us"),
    )
    office.accepted(office.rsvp(ids[0], "accepted-in-person", delegates=5))
    office.accepted(office.rsvp(ids[1], "accepted-by-video"))
    office.accepted(office.rsvp(ids[2], "declined"))
    office.accepted(office.rsvp(ids[4], "accepted-in-person", delegates=2))
    office.clock.now = AFTER_START

    response = office.post(
        f"/city-events/{city_event_id}/complete", {**COMPLETION, "participants": 120}
    )

    accepted = office.accepted(response)
    [exchange] = office.archived("ExchangeRecorded")
    assert exchange["aggregate_id"] == accepted["exchange_id"]
    assert exchange["event_id"] == accepted["exchange_event_id"]
    assert exchange["payload"] == {
        "partner_ids": sorted([came, watched]),
        "date": "2026-10-10",
        "field": "culture",
        "direction": "inbound",
        "summary": COMPLETION["summary"],
        "participants": 120,
        "source": {"kind": "city-event", "id": city_event_id},
    }
    city_event = office.get(f"/city-events/{city_event_id}")
    assert city_event["status"] == "completed"
    assert city_event["completion"] == {
        **COMPLETION,
        "participants": 120,
        "exchange_id": accepted["exchange_id"],
    }


def test_when_every_attending_partner_came_by_video_the_exchange_is_virtual(
    office: Office,
) -> None:
    city_event_id = office.city_event()
    ids = office.invite(
        city_event_id, ("partner", office.partner(0)), ("partner", office.partner(1))
    )
    for invitation_id in ids:
        office.accepted(office.rsvp(invitation_id, "accepted-by-video"))
    office.clock.now = AFTER_START

    office.accepted(office.post(f"/city-events/{city_event_id}/complete", COMPLETION))

    [exchange] = office.archived("ExchangeRecorded")
    assert exchange["payload"]["direction"] == "virtual"


def test_completing_without_an_accepting_partner_records_no_exchange(office: Office) -> None:
    city_event_id = office.city_event()
    [declined, mission] = office.invite(
        city_event_id, ("partner", office.partner()), ("mission", "m-kr")
    )
    office.accepted(office.rsvp(declined, "declined"))
    office.accepted(office.rsvp(mission, "accepted-in-person", delegates=1))
    office.clock.now = AFTER_START

    accepted = office.accepted(office.post(f"/city-events/{city_event_id}/complete", COMPLETION))

    assert (accepted["exchange_id"], accepted["exchange_event_id"]) == (None, None)
    assert office.archived("ExchangeRecorded") == []
    assert office.get(f"/city-events/{city_event_id}")["status"] == "completed"


def test_completing_before_the_event_starts_or_twice_is_refused_with_409(office: Office) -> None:
    city_event_id = office.city_event()
    early = office.post(f"/city-events/{city_event_id}/complete", COMPLETION)
    office.clock.now = AFTER_START
    office.accepted(office.post(f"/city-events/{city_event_id}/complete", COMPLETION))
    twice = office.post(f"/city-events/{city_event_id}/complete", COMPLETION)

    assert early.status_code == 409
    assert "has not started yet" in early.json()["detail"]
    assert twice.status_code == 409
    assert twice.json()["current_state"] == "completed"
