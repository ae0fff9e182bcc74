"""HTTP defaults that keep people out: request bodies capped on the wire, CORS closed unless
configured, security headers on every answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from auth_desk import Desk, desk_fixture, desk_settings, open_desk  # noqa: F401 - `desk`
from conftest import Stack, sample_partner
from twinning.streams.store import OutboxEvent

LIMIT = 1024 * 1024  # the default TWINNING_MAX_BODY_BYTES
ORIGIN = "https://protocol.city.example"
PREFLIGHT = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}


def test_a_body_over_the_limit_is_refused_with_413_whether_declared_or_chunked(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(worker=False, with_relay=False)
    oversized = b'{"names": {"en": "' + b"x" * LIMIT + b'"}}'

    def chunked() -> Iterator[bytes]:  # no Content-Length: only the stream tells the size
        for start in range(0, len(oversized), 64 * 1024):
            yield oversized[start : start + 64 * 1024]

    declared = stack.client.post(
        "/partners", content=oversized, headers={"Content-Type": "application/json"}
    )
    streamed = stack.client.post(
        "/partners", content=chunked(), headers={"Content-Type": "application/json"}
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"request body too large: the limit is {LIMIT} bytes",
        }
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert stack.count(OutboxEvent) == 0
    assert stack.client.post("/partners", json=sample_partner()).status_code == 202


def test_cors_is_closed_by_default(desk: Desk) -> None:
    preflight = desk.call("OPTIONS", "/partners", token=None, headers=PREFLIGHT)
    simple = desk.call("GET", "/partners", headers={"Origin": ORIGIN})

    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code >= 400
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


def test_cors_lets_in_the_configured_origins_only(database_url: str, tmp_path: Path) -> None:
    settings = desk_settings(database_url, tmp_path, cors_origins=[ORIGIN])
    with open_desk(settings) as desk:
        allowed = desk.call("OPTIONS", "/partners", token=None, headers=PREFLIGHT)
        other = desk.call(
            "OPTIONS",
            "/partners",
            token=None,
            headers={**PREFLIGHT, "Origin": "https://elsewhere.example"},
        )
        simple = desk.call("GET", "/partners", headers={"Origin": ORIGIN})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN


def test_every_answer_carries_the_security_headers(desk: Desk) -> None:
    answers = [
        desk.call("GET", "/health", token=None),
        desk.call("GET", "/partners", token=None),
        desk.call("GET", "/partners"),
        desk.call("POST", "/partners", json={"names": {}}),
    ]
    for response in answers:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_answers_to_authenticated_requests_are_not_cached(desk: Desk) -> None:
    assert desk.call("GET", "/partners").headers["Cache-Control"] == "no-store"
    assert desk.call("GET", "/me").headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in desk.call("GET", "/health", token=None).headers
