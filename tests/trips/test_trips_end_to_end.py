"""Through the real stack (API, relay, broker, worker): a completed trip's exchange reaches
the partner's figures, across the partners and exchanges topics."""

from __future__ import annotations

from conftest import Stack, end_to_end, sample_partner


@end_to_end
def test_a_completed_trip_shows_in_the_visited_partners_figures(shared_stack: Stack) -> None:
    stack = shared_stack
    partner = stack.post_partner(**sample_partner(7))
    planned = stack.client.post(
        "/trips",
        json={
            "title": {"en": "Mayor at the Testville festival"},
            "officials": [{"official_id": "mayor"}],
            "legs": [
                {
                    "city": {"en": "Testville 7"},
                    "country": "JP",
                    "timezone": "Asia/Tokyo",
                    "start": "2025-10-10T09:00:00+09:00",
                    "end": "2025-10-12T18:00:00+09:00",
                    "partner_ids": [partner["id"]],
                }
            ],
        },
    )
    assert planned.status_code == 202, planned.text
    trip_id = planned.json()["id"]
    stack.wait_applied([planned.json()["event_id"]])  # the worker is warm from here on
    completed = stack.client.post(f"/trips/{trip_id}/complete", json={"field": "culture"})
    assert completed.status_code == 202, completed.text
    stack.wait_applied([completed.json()["event_id"], completed.json()["exchange_event_id"]])

    assert stack.client.get(f"/trips/{trip_id}").json()["status"] == "completed"
    figures = stack.client.get(f"/partners/{partner['id']}/stats").json()
    assert figures["last_exchange_date"] == "2025-10-10"
    assert figures["exchanges_by_field_and_year"] == [
        {"year": 2025, "field": "culture", "count": 1}
    ]
    again = stack.client.post(f"/trips/{trip_id}/complete")
    assert again.status_code == 409
    assert again.json()["current_state"] == "completed"
