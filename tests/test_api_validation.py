"""Bad input is refused with the field and the reason, and nothing is stored.

The refusals share one started system per database (`shared_stack`): each checks that no
command was stored by its request (the outbox holds as many as before it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import Stack, on_a_shared_stack, sample_partner, wait_for
from twinning.streams.store import OutboxEvent

shared = on_a_shared_stack("api-validation")


@shared
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "Japan"}, "country"),
        ({"kind": "enemy"}, "kind"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"agreement_date": "2010-13-45"}, "agreement_date"),
        ({"names": {}}, "names"),
        ({"names": {"en": "   "}}, "names"),
        ({"website": "not a url"}, "website"),
        ({"population": 0}, "population"),
        ({"population": "two million"}, "population"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_an_invalid_partner_is_refused_with_422_naming_the_field(
    shared_stack: Stack, change: dict[str, Any], field: str
) -> None:
    stack = shared_stack
    commands = stack.count(OutboxEvent)
    response = stack.client.post("/partners", json={**sample_partner(), **change})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(field in error["loc"] for error in errors), errors
    assert all(error["msg"] for error in errors)
    assert stack.count(OutboxEvent) == commands


@shared
def test_unknown_partner_and_event_answer_404(shared_stack: Stack) -> None:
    stack = shared_stack
    commands = stack.count(OutboxEvent)
    assert stack.client.get("/partners/nope").status_code == 404
    assert stack.client.patch("/partners/nope", json={"region": "x"}).status_code == 404
    assert stack.client.get("/events/0b5e7d0e-6a49-4a0b-9a51-111111111111").status_code == 404
    assert stack.client.get("/events/not-a-uuid").status_code == 422
    assert stack.count(OutboxEvent) == commands


def test_health_and_openapi_are_served(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(worker=False)
    health = stack.client.get("/health")
    assert health.status_code == 503  # commands are accepted, but nothing applies them
    assert health.json() == {
        "status": "degraded",
        "database": {"status": "up", "detail": None},
        "broker": {"status": "up", "detail": None},
        "worker": {
            "status": "down",
            "detail": "no worker has sent a heartbeat in the last 15 s: accepted commands wait"
            " in the outbox until one runs",
        },
        "workers": [],
    }
    stack.start_worker()
    wait_for(lambda: stack.client.get("/health").status_code == 200, what="a worker's heartbeat")
    health = stack.client.get("/health").json()
    assert (health["status"], health["worker"]["status"], len(health["workers"])) == (
        "ok",
        "up",
        1,
    )
    paths = stack.client.get("/openapi.json").json()["paths"]
    assert {"/partners", "/partners/{partner_id}", "/events/{event_id}", "/health"} <= set(paths)
    assert stack.client.get("/docs").status_code == 200
