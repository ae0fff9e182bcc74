"""An office desk for the invitations tests: the shared `inline_api` (the real API in this
process, the worker's projection path applied after every command) with a clock the test
sets, and the steps of the office's work. Fast enough for every flow."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from conftest import InlineApi, accepted, sample_partner
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twinning.api.deps import get_clock
from twinning.streams.events import decode
from twinning.streams.store import ArchivedEvent, OutboxEvent

#: Before the sample event and its answer-by date.
EARLY = datetime(2026, 9, 1, tzinfo=UTC)


def sample_city_event(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "festival",
        "title": {"zh-TW": "國際文化節", "en": "International Culture Festival"},
        "description": {"en": "Music and food from our partner cities."},
        "starts_at": "2026-10-10T09:00:00+08:00",
        "ends_at": "2026-10-10T17:00:00+08:00",
        "timezone": "Asia/Taipei",
        "venue": {"place": "Arts Plaza"},
        "video_link": "https://video.example/festival",
        **overrides,
    }


def produced(event_type: str, payload: dict[str, Any], *, aggregate_id: str) -> bytes:
    """An event as another system writes it onto the topic (kcat, Java, Go...)."""
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": event_type,
            "schema_version": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "aggregate_id": aggregate_id,
            "actor": "ticketing-system",
            "payload": payload,
        }
    ).encode()


class Clock:
    def __init__(self) -> None:
        self.now = EARLY

    def __call__(self) -> datetime:
        return self.now


class Office:
    def __init__(self, api: InlineApi) -> None:
        self.api = api
        self.clock = Clock()
        api.app.dependency_overrides[get_clock] = lambda: self.clock

    # --- the API (the worker catches up after each request) ------------------------------

    def post(self, path: str, json: Any = None) -> httpx.Response:
        return self.api.post(path, json=json)

    def patch(self, path: str, json: Any) -> httpx.Response:
        return self.api.patch(path, json=json)

    def get(self, path: str, **params: Any) -> Any:
        response = self.api.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post_before_the_worker(self, path: str, json: Any) -> httpx.Response:
        """A command whose events the worker has not applied yet."""
        return self.api.portal.call(partial(self.api.client.post, path, json=json))

    def outbox_size(self) -> int:
        with Session(self.api.engine) as session:
            return int(session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)

    def archived(self, event_type: str) -> list[dict[str, Any]]:
        """The envelopes of the applied events of one type, oldest first."""
        with Session(self.api.engine) as session:
            bodies = session.scalars(
                select(ArchivedEvent.body)
                .where(ArchivedEvent.type == event_type)
                .order_by(ArchivedEvent.seq)
            ).all()
        return [decode(body).envelope.model_dump(mode="json") for body in bodies]

    # --- steps of the office's work --------------------------------------------------------

    def accepted(self, response: httpx.Response) -> Any:
        return accepted(response)

    def partner(self, n: int = 0) -> str:
        return str(self.accepted(self.post("/partners", sample_partner(n)))["id"])

    def city_event(self, **overrides: Any) -> str:
        return str(self.accepted(self.post("/city-events", sample_city_event(**overrides)))["id"])

    def invite(
        self, city_event_id: str, *invitees: tuple[str, str], answer_by: str = "2026-09-20"
    ) -> list[str]:
        body = {"answer_by": answer_by, "invitees": [{"kind": k, "id": i} for k, i in invitees]}
        response = self.post(f"/city-events/{city_event_id}/invitations", body)
        return [a["id"] for a in self.accepted(response)]

    def rsvp(self, invitation_id: str, answer: str, **more: Any) -> httpx.Response:
        body = {"answer": answer, "received_via": "email", **more}
        return self.post(f"/invitations/{invitation_id}/rsvp", body)
