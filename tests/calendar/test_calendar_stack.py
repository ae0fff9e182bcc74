"""End to end through the real stack (API with its relay, embedded broker, worker process): what
staff plan through the API reaches an official's subscribed feed, changes included."""

from __future__ import annotations

from typing import Any

import httpx
from calendar_support import NOW, check_feed, parse
from conftest import Stack, end_to_end, wait_for
from twinning.api.deps import get_clock


def _accepted(response: httpx.Response) -> Any:
    assert response.status_code == 202, response.text
    return response.json()


@end_to_end
def test_an_officials_subscribed_feed_follows_the_itinerary_through_the_worker(
    shared_stack: Stack,
) -> None:
    stack = shared_stack
    stack.app.dependency_overrides[get_clock] = lambda: lambda: NOW
    client = stack.client
    registered = _accepted(
        client.post(
            "/officials",
            json={
                "names": {"en": "Mayor Lin", "zh-TW": "林市長"},
                "title": {"en": "Mayor"},
                "protocol_rank": 1,
            },
        )
    )
    mayor = registered["id"]
    stack.wait_applied([registered["event_id"]])  # the worker has joined its consumer group
    visit = _accepted(
        client.post(
            "/visits",
            json={
                "delegation": {"organisation": {"en": "Kyoto Chamber of Commerce"}},
                "head_of_delegation": {
                    "names": {"en": "Ichiro Sato"},
                    "title": {"en": "Chair"},
                    "protocol_rank": 2,
                },
                "members": 8,
                "purpose": {"en": "Smart-city exchange"},
                "requested_from": "2026-05-01",
                "requested_to": "2026-05-03",
            },
        )
    )["id"]
    _accepted(client.post(f"/visits/{visit}/approve"))
    item = _accepted(
        client.post(
            f"/visits/{visit}/itinerary",
            json={
                "starts_at": "2026-05-01T10:00:00+08:00",
                "ends_at": "2026-05-01T11:00:00+08:00",
                "place": {"names": {"en": "Guest House"}, "timezone": "Asia/Taipei"},
                "official_ids": [mayor],
                "titles": {"en": "Courtesy call", "zh-TW": "禮貌性拜會"},
            },
        )
    )["id"]
    link = client.post("/feed-links", json={"audience": {"kind": "official", "official_id": mayor}})
    assert link.status_code == 201, link.text
    subscriber = httpx.Client(timeout=30)  # a calendar client: no API token
    url = link.json()["url"]

    def events() -> list[Any]:
        feed = subscriber.get(url)
        assert feed.status_code == 200
        return list(check_feed(feed.content).events)

    (first,) = wait_for(events, what="the item in the mayor's feed")
    moved = _accepted(
        client.patch(
            f"/visits/{visit}/itinerary/{item}",
            json={"starts_at": "2026-05-01T15:00:00+08:00", "ends_at": "2026-05-01T16:00:00+08:00"},
        )
    )
    stack.wait_applied([moved["event_id"]])

    (event,) = events()
    assert str(first["SUMMARY"]) == "禮貌性拜會"  # the link's language: zh-TW by default
    assert event.start.isoformat() == "2026-05-01T15:00:00+08:00"
    assert event["SEQUENCE"] > first["SEQUENCE"]
    english = parse(subscriber.get(url.replace("lang=zh-TW", "lang=en")).content)
    assert [str(e["SUMMARY"]) for e in english.events] == ["Courtesy call"]
    subscriber.close()
