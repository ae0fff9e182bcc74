"""Sample requests and a staff member's shortcuts for the visits tests (imported by name:
tests folders are not packages, so this module's name must be unique in the suite)."""

from __future__ import annotations

from typing import Any

import httpx
from conftest import InlineApi, accepted, sample_partner

TAIPEI = "Asia/Taipei"


def sample_official(n: int = 0, **overrides: Any) -> dict[str, Any]:
    return {
        "names": {"zh-TW": f"王{n}號", "en": f"Wang No. {n}"},
        "title": {"zh-TW": "副市長", "en": "Deputy Mayor"},
        "protocol_rank": 2 + n,
        **overrides,
    }


def sample_venue(n: int = 0, **overrides: Any) -> dict[str, Any]:
    return {
        "names": {"zh-TW": f"第{n}會議室", "en": f"Meeting Room {n}"},
        "capacity": 40,
        "timezone": TAIPEI,
        "address": {"zh-TW": "市府路1號", "en": "1 City Hall Road"},
        **overrides,
    }


def sample_visit(**overrides: Any) -> dict[str, Any]:
    return {
        "delegation": {"organisation": {"ja": "京都商工会議所", "en": "Kyoto Chamber of Commerce"}},
        "head_of_delegation": {
            "names": {"ja": "佐藤一郎", "en": "Ichiro Sato"},
            "title": {"ja": "会頭", "en": "Chairman"},
            "protocol_rank": 3,
        },
        "members": 8,
        "purpose": {"en": "Smart-city exchange", "zh-TW": "智慧城市交流"},
        "requested_from": "2026-05-01",
        "requested_to": "2026-05-03",
        "languages": ["ja", "en"],
        "interpreter_needed": True,
        "dietary_notes": "two vegetarians",
        "accessibility_notes": "one wheelchair user",
        "contact": {"name": "Hanako Sato", "email": "sato@example.jp", "phone": "+81 75 123 4567"},
        **overrides,
    }


def sample_item(starts_at: str, ends_at: str, **overrides: Any) -> dict[str, Any]:
    return {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "titles": {"en": "Courtesy call on the mayor", "zh-TW": "拜會市長"},
        **overrides,
    }


def accepted_id(response: httpx.Response) -> str:
    return str(accepted(response)["id"])


class Office:
    """What protocol staff do through the API, in one line each."""

    def __init__(self, api: InlineApi) -> None:
        self.api = api

    def partner(self) -> str:
        return accepted_id(self.api.post("/partners", json=sample_partner()))

    def official(self, n: int = 0, **overrides: Any) -> str:
        return accepted_id(self.api.post("/officials", json=sample_official(n, **overrides)))

    def venue(self, n: int = 0, **overrides: Any) -> str:
        return accepted_id(self.api.post("/venues", json=sample_venue(n, **overrides)))

    def visit(self, *steps: str, **overrides: Any) -> str:
        """A new visit request, taken through `steps` (approve, schedule...)."""
        visit_id = accepted_id(self.api.post("/visits", json=sample_visit(**overrides)))
        for step in steps:
            accepted_id(self.api.post(f"/visits/{visit_id}/{step}"))
        return visit_id

    def add_item(self, visit_id: str, starts_at: str, ends_at: str, **extra: Any) -> httpx.Response:
        return self.api.post(
            f"/visits/{visit_id}/itinerary", json=sample_item(starts_at, ends_at, **extra)
        )

    def status(self, visit_id: str) -> str:
        return str(self.api.get(f"/visits/{visit_id}").json()["status"])
