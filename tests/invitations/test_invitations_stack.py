"""End to end through the real stack (API with its relay, embedded broker, worker process)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from conftest import Stack, on_a_shared_stack, wait_for
from invitations_office import Clock, produced, sample_city_event
from kafka import KafkaProducer
from twinning.api.deps import get_clock
from twinning.streams.events import INVITATIONS

#: One started system per database for this module's tests, each on a city event of its own.
shared = on_a_shared_stack("invitations-stack")


def _accepted(response: httpx.Response) -> Any:
    assert response.status_code == 202, response.text
    return response.json()


@shared
def test_an_invitation_is_answered_summarised_and_the_event_completed_with_its_exchange(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    clock = Clock()
    stack.app.dependency_overrides[get_clock] = lambda: clock
    client = stack.client
    partner = stack.post_partner()["id"]
    scheduled = _accepted(client.post("/city-events", json=sample_city_event()))
    city_event = scheduled["id"]
    stack.wait_applied([scheduled["event_id"]])  # the worker has joined its consumer group

    # Each command below validates against the state the worker made of the one before.
    body = {"answer_by": "2026-09-20", "invitees": [{"kind": "partner", "id": partner}]}
    [invitation] = _accepted(client.post(f"/city-events/{city_event}/invitations", json=body))
    rsvp = {"answer": "accepted-in-person", "delegates": 6, "received_via": "letter"}
    _accepted(client.post(f"/invitations/{invitation['id']}/rsvp", json=rsvp))
    clock.now = datetime(2026, 10, 10, 3, 0, tzinfo=UTC)
    completion = {"field": "culture", "summary": {"en": "A festival with our partner."}}
    completed = _accepted(client.post(f"/city-events/{city_event}/complete", json=completion))
    stack.wait_applied([completed["event_id"], completed["exchange_event_id"]])

    summary = client.get(f"/city-events/{city_event}/invitations/summary").json()
    assert summary["counts"]["accepted-in-person"] == 1
    assert summary["delegates_in_person"] == 6
    city_event_read = client.get(f"/city-events/{city_event}").json()
    assert city_event_read["status"] == "completed"
    assert city_event_read["completion"]["exchange_id"] == completed["exchange_id"]


@shared
def test_an_event_and_invitation_produced_by_another_system_can_be_answered_through_the_api(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    clock = Clock()
    stack.app.dependency_overrides[get_clock] = lambda: clock
    aggregate = "festival-from-ticketing"
    invited = {
        "invitation_id": "inv-ticketing-1",
        "invitee_kind": "mission",
        "invitee_id": "m-jp",
        "answer_by": "2026-09-10",
    }
    producer = KafkaProducer(bootstrap_servers=stack.broker.bootstrap_servers, acks="all")
    for value in (
        produced("CityEventScheduled", sample_city_event(), aggregate_id=aggregate),
        produced("InvitationSent", invited, aggregate_id=aggregate),
    ):
        producer.send(INVITATIONS, key=aggregate.encode(), value=value).get(10)
    producer.close()

    wait_for(
        lambda: stack.client.get("/invitations/inv-ticketing-1").status_code == 200,
        what="the produced invitation to be applied",
    )
    rsvp = {"answer": "accepted-by-video", "received_via": "email"}
    answered = _accepted(stack.client.post("/invitations/inv-ticketing-1/rsvp", json=rsvp))
    stack.wait_applied([answered["event_id"]])

    clock.now = datetime(2026, 9, 11, tzinfo=UTC)
    summary = stack.client.get(f"/city-events/{aggregate}/invitations/summary").json()
    assert summary["counts"] == {
        "no-reply": 0,
        "accepted-in-person": 0,
        "accepted-by-video": 1,
        "declined": 0,
    }
    assert summary["not_replied_after_answer_by"] == []
