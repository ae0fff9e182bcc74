"""The office at the API for the one-schedule tests: officials, venues, interpreters, visits
with items, city events and trips, each in a line (imported by name: unique in the suite)."""

from __future__ import annotations

from typing import Any

import httpx
from conftest import InlineApi

TAIPEI = "Asia/Taipei"


def leg(city: str, zone: str, start: str, end: str) -> dict[str, Any]:
    return {"city": {"en": city}, "country": "JP", "timezone": zone, "start": start, "end": end}


class Desk:
    """Protocol staff booking through the API."""

    def __init__(self, api: InlineApi) -> None:
        self.api = api

    def accepted(self, url: str, body: dict[str, Any], method: str = "POST") -> str:
        response = self.api.request(method, url, json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def official(self, name: str = "Mayor Lin", rank: int = 1) -> str:
        return self.accepted(
            "/officials",
            {
                "names": {"en": name, "zh-TW": "林市長"},
                "title": {"en": "Mayor", "zh-TW": "市長"},
                "protocol_rank": rank,
            },
        )

    def venue(self, name: str = "Reception Hall") -> str:
        return self.accepted("/venues", {"names": {"en": name}, "capacity": 50, "timezone": TAIPEI})

    def interpreter(self, name: str = "Chen Ya-ting", *pairs: tuple[str, str]) -> str:
        pairs = pairs or (("zh-TW", "ja"), ("ja", "zh-TW"))
        return self.accepted(
            "/interpreters",
            {
                "name": name,
                "language_pairs": [{"source": s, "target": t} for s, t in pairs],
                "engagement": "contracted",
                "contact": {"email": "chen@example.org", "phone": "+886 3 332 2101"},
            },
        )

    def visit(self, languages: list[str] | None = None) -> str:
        visit_id = self.accepted(
            "/visits",
            {
                "delegation": {"organisation": {"ja": "京都商工会議所", "en": "Kyoto Chamber"}},
                "head_of_delegation": {
                    "names": {"en": "Ichiro Sato"},
                    "title": {"en": "Chairman"},
                    "protocol_rank": 3,
                },
                "members": 5,
                "purpose": {"en": "Smart-city exchange"},
                "requested_from": "2026-05-01",
                "requested_to": "2026-05-03",
                "languages": languages or ["ja"],
            },
        )
        self.accepted(f"/visits/{visit_id}/approve", {})
        return visit_id

    def book_item(
        self, visit_id: str, starts_at: str, ends_at: str, **facts: Any
    ) -> httpx.Response:
        return self.api.post(
            f"/visits/{visit_id}/itinerary",
            json={
                "starts_at": starts_at,
                "ends_at": ends_at,
                "titles": {"en": "Courtesy call on the mayor", "zh-TW": "拜會市長"},
                **(
                    {"place": {"names": {"en": "Guest House"}, "timezone": TAIPEI}}
                    if "venue_id" not in facts and "place" not in facts
                    else {}
                ),
                **facts,
            },
        )

    def book_city_event(self, starts_at: str, ends_at: str, **facts: Any) -> httpx.Response:
        return self.api.post(
            "/city-events",
            json={
                "kind": "forum",
                "title": {"en": "Smart City Forum", "zh-TW": "智慧城市論壇"},
                "starts_at": starts_at,
                "ends_at": ends_at,
                "timezone": TAIPEI,
                "venue": {"place": "Arts Plaza"},
                **facts,
            },
        )

    def plan_trip(
        self, official_ids: list[str], *legs: dict[str, Any], **extra: Any
    ) -> httpx.Response:
        return self.api.post(
            "/trips",
            json={
                "title": {"en": "Mayor's visit to Japan", "zh-TW": "市長訪日"},
                "officials": [{"official_id": o} for o in official_ids],
                "legs": list(legs),
                **extra,
            },
        )


def refused(response: httpx.Response) -> list[dict[str, Any]]:
    """The conflicts a 409 lists."""
    assert response.status_code == 409, response.text
    return list(response.json()["conflicts"])


def accepted_id(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    return str(response.json()["id"])
