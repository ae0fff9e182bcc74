"""A visit's lifecycle through the API: each legal step, the 409 of an illegal one, the actor
and reason of every step, and the exchange a completed visit records."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import InlineApi
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.streams.store import OutboxEvent
from visits_support import Office, accepted_id

#: How to reach each state from a new request.
PATH_TO = {
    "requested": (),
    "approved": ("approve",),
    "declined": ("decline",),
    "scheduled": ("approve", "schedule"),
    "completed": ("approve", "schedule", "complete"),
    "cancelled": ("cancel",),
}
STATUS_AFTER = {
    "approve": "approved",
    "decline": "declined",
    "schedule": "scheduled",
    "complete": "completed",
    "cancel": "cancelled",
}
LEGAL = [
    ("requested", "approve", "approved"),
    ("requested", "decline", "declined"),
    ("approved", "schedule", "scheduled"),
    ("scheduled", "complete", "completed"),
    ("requested", "cancel", "cancelled"),
    ("approved", "cancel", "cancelled"),
    ("scheduled", "cancel", "cancelled"),
]


def outbox_payloads(api: InlineApi, event_type: str) -> list[dict[str, Any]]:
    with Session(api.engine) as session:
        bodies = session.scalars(
            select(OutboxEvent.body).where(OutboxEvent.type == event_type).order_by(OutboxEvent.id)
        )
        return [json.loads(body) for body in bodies]


@pytest.mark.parametrize(("start", "command", "target"), LEGAL)
def test_each_legal_step_moves_the_visit_and_records_who_took_it(
    inline_api: InlineApi, start: str, command: str, target: str
) -> None:
    office = Office(inline_api)
    visit_id = office.visit(*PATH_TO[start])

    response = inline_api.post(f"/visits/{visit_id}/{command}", json={"reason": "as agreed"})

    assert accepted_id(response) == visit_id
    assert response.headers["location"] == f"/visits/{visit_id}"
    visit = inline_api.get(f"/visits/{visit_id}").json()
    assert visit["status"] == target
    last = visit["history"][-1]
    assert (last["status"], last["reason"]) == (target, "as agreed")
    assert last["actor"] == "user:admin"  # the bootstrap admin the test client acts as
    passed = [STATUS_AFTER[c] for c in PATH_TO[start]]
    assert [h["status"] for h in visit["history"]] == ["requested", *passed, target]


def test_a_step_the_state_does_not_allow_answers_409_naming_the_current_status(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    allowed = {(start, command) for start, command, _ in LEGAL}
    for status, path in PATH_TO.items():
        visit_id = office.visit(*path)
        for command in STATUS_AFTER:
            if (status, command) in allowed:
                continue
            response = inline_api.post(f"/visits/{visit_id}/{command}")
            assert response.status_code == 409, (status, command, response.text)
            assert response.json()["current_state"] == status
            assert status in response.json()["detail"]
        assert office.status(visit_id) == status


def test_a_step_on_an_unknown_visit_answers_404(inline_api: InlineApi) -> None:
    for command in [*STATUS_AFTER]:
        assert inline_api.post(f"/visits/nope/{command}").status_code == 404


def test_completing_a_partner_city_visit_records_its_exchange_with_the_visit(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    partner_id = office.partner()
    visit_id = office.visit("approve", delegation={"partner_id": partner_id})
    venue_id = office.venue()
    # Half past midnight in Taipei is still the previous day in UTC: the exchange is local.
    office.add_item(
        visit_id, "2026-05-02T00:30:00+08:00", "2026-05-02T01:30:00+08:00", venue_id=venue_id
    )
    accepted_id(inline_api.post(f"/visits/{visit_id}/schedule"))

    response = inline_api.post(
        f"/visits/{visit_id}/complete",
        json={
            "reason": "went well",
            "exchange": {"field": "technology", "summary": {"en": "Smart-city talks"}},
        },
    )

    assert response.status_code == 202, response.text
    answer = response.json()
    [completed] = outbox_payloads(inline_api, "VisitCompleted")
    [exchange] = outbox_payloads(inline_api, "ExchangeRecorded")
    assert completed["event_id"] == answer["event_id"]
    assert exchange["event_id"] == answer["exchange_event_id"]
    assert exchange["aggregate_id"] == answer["exchange_id"]
    assert completed["payload"] == {"reason": "went well", "exchange_id": answer["exchange_id"]}
    assert exchange["payload"] == {
        "partner_ids": [partner_id],
        "date": "2026-05-02",
        "field": "technology",
        "direction": "inbound",
        "summary": {"en": "Smart-city talks"},
        "participants": 8,
        "source": {"kind": "visit", "id": visit_id},
    }
    visit = inline_api.get(f"/visits/{visit_id}").json()
    assert (visit["status"], visit["exchange_id"]) == ("completed", answer["exchange_id"])


def test_the_exchange_takes_the_date_participants_and_direction_staff_give(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    visit_id = office.visit("approve", "schedule", delegation={"partner_id": office.partner()})

    exchange = {
        "field": "culture",
        "direction": "virtual",
        "summary": {"en": "Online concert"},
        "participants": 120,
        "date": "2026-06-01",
    }
    response = inline_api.post(f"/visits/{visit_id}/complete", json={"exchange": exchange})

    assert response.status_code == 202, response.text
    [recorded] = outbox_payloads(inline_api, "ExchangeRecorded")
    assert {key: recorded["payload"][key] for key in exchange} == exchange


def test_completing_a_visit_without_a_partner_city_records_no_exchange(
    inline_api: InlineApi,
) -> None:
    visit_id = Office(inline_api).visit("approve", "schedule")

    response = inline_api.post(f"/visits/{visit_id}/complete")

    assert response.status_code == 202, response.text
    assert (response.json()["exchange_id"], response.json()["exchange_event_id"]) == (None, None)
    assert outbox_payloads(inline_api, "ExchangeRecorded") == []
    assert inline_api.get(f"/visits/{visit_id}").json()["status"] == "completed"


def test_completing_a_partner_city_visit_without_its_exchange_is_refused(
    inline_api: InlineApi,
) -> None:
    office = Office(inline_api)
    visit_id = office.visit("approve", "schedule", delegation={"partner_id": office.partner()})

    response = inline_api.post(f"/visits/{visit_id}/complete", json={"reason": "done"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "exchange"]
    assert office.status(visit_id) == "scheduled"
    assert outbox_payloads(inline_api, "VisitCompleted") == []
