"""A delegation visit through the real system (API, outbox relay, embedded Kafka broker, faust
worker), on SQLite and PostgreSQL: the scheduling walk-through of the README."""

from __future__ import annotations

from conftest import Stack, accepted, end_to_end
from visits_support import sample_item, sample_official, sample_venue, sample_visit


@end_to_end
def test_request_approve_plan_schedule_and_complete_a_visit_records_its_exchange(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    client = stack.client
    partner = stack.post_partner()
    mayor = accepted(client.post("/officials", json=sample_official(protocol_rank=1)))
    hall = accepted(client.post("/venues", json=sample_venue()))
    stack.wait_applied([partner["event_id"], mayor["event_id"], hall["event_id"]])

    # Each command validates against what the worker made of the one before it.
    visit = accepted(
        client.post("/visits", json=sample_visit(delegation={"partner_id": partner["id"]}))
    )
    visit_url = f"/visits/{visit['id']}"
    accepted(client.post(f"{visit_url}/approve", json={"reason": "mayor available"}))
    item = sample_item(
        "2026-05-01T10:00:00+08:00",
        "2026-05-01T11:00:00+08:00",
        venue_id=hall["id"],
        official_ids=[mayor["id"]],
    )
    accepted(client.post(f"{visit_url}/itinerary", json=item))
    clash = client.post(f"{visit_url}/itinerary", json=item)
    accepted(client.post(f"{visit_url}/schedule"))
    completed = accepted(
        client.post(
            f"{visit_url}/complete",
            json={"exchange": {"field": "technology", "summary": {"en": "Smart-city talks"}}},
        )
    )
    stack.wait_applied([completed["event_id"], completed["exchange_event_id"]])

    assert clash.status_code == 409
    assert {c["official_id"] for c in clash.json()["conflicts"]} == {None, mayor["id"]}
    shown = client.get(visit_url).json()
    assert shown["status"] == "completed"
    assert shown["exchange_id"] == completed["exchange_id"]
    assert [h["status"] for h in shown["history"]] == [
        "requested",
        "approved",
        "scheduled",
        "completed",
    ]
    [planned] = client.get(f"{visit_url}/itinerary").json()
    assert (planned["local_starts_at"], planned["official_ids"]) == (
        "2026-05-01T10:00:00+08:00",
        [mayor["id"]],
    )
