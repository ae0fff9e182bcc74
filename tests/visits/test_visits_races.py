"""Commands that race each other through the real system (API, relay, broker, worker), on
SQLite and PostgreSQL: of two bookings of one venue at one time, or two steps from the same
state, sent at the same moment, exactly one is accepted and the other is refused naming what
won. Each race is run several times: without the per-aggregate lock in `outbox.settle`, both
commands would pass their check before either commits."""

from __future__ import annotations

from typing import Any

import httpx
from conftest import InlineApi, Stack, accepted, locked_keys, on_a_shared_stack
from visits_support import Office, accepted_id, sample_item, sample_venue, sample_visit

ROUNDS = 10


#: One started system per database for this module's stack tests, each on visits (and a venue)
#: of its own.
shared = on_a_shared_stack("visits-races")


def one_wins(responses: list[httpx.Response]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The accepted answer and the refused one (409) of two racing commands."""
    codes = sorted(response.status_code for response in responses)
    assert codes == [202, 409], [response.text for response in responses]
    [won] = [r.json() for r in responses if r.status_code == 202]
    [lost] = [r.json() for r in responses if r.status_code == 409]
    return won, lost


@shared
def test_of_two_simultaneous_bookings_of_a_venue_one_is_refused_naming_the_other(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    client = stack.client
    hall = accepted(client.post("/venues", json=sample_venue()))
    visits = [accepted(client.post("/visits", json=sample_visit())) for _ in range(2)]
    stack.wait_applied([hall["event_id"], *(visit["event_id"] for visit in visits)])

    for day in range(1, ROUNDS + 1):
        item = sample_item(
            f"2026-05-{day:02}T10:00:00+08:00",
            f"2026-05-{day:02}T11:00:00+08:00",
            venue_id=hall["id"],
        )
        won, lost = one_wins(
            stack.concurrently(
                *(("POST", f"/visits/{visit['id']}/itinerary", item) for visit in visits)
            )
        )

        assert [c["item_id"] for c in lost["conflicts"]] == [won["id"]]
    booked = [item for v in visits for item in client.get(f"/visits/{v['id']}/itinerary").json()]
    assert len(booked) == ROUNDS


@shared
def test_of_two_simultaneous_steps_from_one_state_one_is_refused_naming_the_new_state(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    client = stack.client
    visits = [accepted(client.post("/visits", json=sample_visit())) for _ in range(ROUNDS)]
    stack.wait_applied([visit["event_id"] for visit in visits])

    for visit in visits:
        steps = ("approve", "decline")
        responses = stack.concurrently(
            *(("POST", f"/visits/{visit['id']}/{step}", None) for step in steps)
        )
        _won, lost = one_wins(responses)

        taken = "approved" if responses[0].status_code == 202 else "declined"
        assert lost["current_state"] == taken


def test_a_refused_command_does_not_keep_its_visit_locked(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    visit_id, hall = office.visit("approve"), office.venue()
    ten, noon = "2026-05-01T10:00:00+08:00", "2026-05-01T12:00:00+08:00"
    accepted_id(office.add_item(visit_id, ten, noon, venue_id=hall))

    refused = [
        inline_api.post(f"/visits/{visit_id}/approve"),  # already approved
        office.add_item(visit_id, ten, noon, venue_id=hall),  # the hall is booked
        office.add_item(visit_id, ten, noon, venue_id="no-such-venue"),
        inline_api.post("/visits/no-such-visit/approve"),
    ]

    assert [response.status_code for response in refused] == [409, 409, 422, 404]
    assert inline_api.portal.call(locked_keys) == {}
    # A held lock would keep these waiting until settle's deadline (503).
    accepted_id(office.add_item(visit_id, noon, "2026-05-01T13:00:00+08:00", venue_id=hall))
    accepted_id(inline_api.post(f"/visits/{visit_id}/schedule"))
    assert office.status(visit_id) == "scheduled"
