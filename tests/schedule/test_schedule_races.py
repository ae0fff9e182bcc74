"""Bookings of different kinds that race each other through the real system (API, relay,
broker, worker), on SQLite and PostgreSQL: an itinerary item and a city event booking the
same official at the same time, sent at the same moment, resolve to one winner; the other is
refused naming it."""

from __future__ import annotations

import pytest
from conftest import Stack, accepted, end_to_end

pytestmark = pytest.mark.slow

ROUNDS = 5


@end_to_end
def test_an_item_and_a_city_event_booking_one_official_at_once_have_one_winner(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    client = stack.client
    official = {"names": {"en": "Mayor Lin"}, "title": {"en": "Mayor"}, "protocol_rank": 1}
    mayor = accepted(client.post("/officials", json=official))
    visit = accepted(
        client.post(
            "/visits",
            json={
                "delegation": {"organisation": {"en": "Kyoto Chamber"}},
                "head_of_delegation": {
                    "names": {"en": "Ichiro Sato"},
                    "title": {"en": "Chairman"},
                    "protocol_rank": 3,
                },
                "members": 5,
                "purpose": {"en": "Exchange"},
                "requested_from": "2026-05-01",
                "requested_to": "2026-05-09",
            },
        )
    )
    stack.wait_applied([mayor["event_id"], visit["event_id"]])

    for day in range(1, ROUNDS + 1):
        starts_at, ends_at = f"2026-05-{day:02}T10:00:00+08:00", f"2026-05-{day:02}T11:00:00+08:00"
        item = {
            "starts_at": starts_at,
            "ends_at": ends_at,
            "titles": {"en": "Courtesy call"},
            "place": {"names": {"en": "Guest House"}, "timezone": "Asia/Taipei"},
            "official_ids": [mayor["id"]],
        }
        city_event = {
            "kind": "forum",
            "title": {"en": "Forum"},
            "starts_at": starts_at,
            "ends_at": ends_at,
            "timezone": "Asia/Taipei",
            "official_ids": [mayor["id"]],
        }
        responses = stack.concurrently(
            ("POST", f"/visits/{visit['id']}/itinerary", item), ("POST", "/city-events", city_event)
        )

        codes = sorted(response.status_code for response in responses)
        assert codes == [202, 409], [response.text for response in responses]
        [won] = [r.json() for r in responses if r.status_code == 202]
        [lost] = [r.json() for r in responses if r.status_code == 409]
        assert [c["id"] for c in lost["conflicts"]] == [won["id"]]
