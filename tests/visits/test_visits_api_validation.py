"""Bad input to every visits command is refused with 422 naming the field, unknown ids with
404, and nothing is recorded; personal data stays hidden from callers without access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from conftest import InlineApi
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twinning.api.deps import get_personal_data_access
from twinning.streams.store import OutboxEvent
from visits_support import (
    Office,
    accepted_id,
    sample_item,
    sample_official,
    sample_venue,
    sample_visit,
)

TEN, ELEVEN = "2026-05-01T10:00:00+08:00", "2026-05-01T11:00:00+08:00"
Send = Callable[[dict[str, Any]], httpx.Response]


def outbox_size(api: InlineApi) -> int:
    with Session(api.engine) as session:
        return int(session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)


def posting_to(api: InlineApi, url: str) -> Send:
    return lambda body: api.post(url, json=body)


def assert_refused(api: InlineApi, send: Send, cases: list[tuple[dict[str, Any], str]]) -> None:
    """Each body is refused with 422 naming `field` (in the error's location, or in its
    message when the error is about several fields), and the outbox does not grow."""
    before = outbox_size(api)
    for body, field in cases:
        response = send(body)
        assert response.status_code == 422, (body, response.text)
        errors = response.json()["errors"]
        assert any(field in error["loc"] or field in error["msg"] for error in errors), (
            field,
            errors,
        )
        assert all(error["msg"] for error in errors)
    assert outbox_size(api) == before


def test_an_invalid_official_is_refused(inline_api: InlineApi) -> None:
    official_id = Office(inline_api).official()
    assert_refused(
        inline_api,
        lambda body: inline_api.post("/officials", json={**sample_official(), **body}),
        [
            ({"protocol_rank": 0}, "protocol_rank"),
            ({"protocol_rank": "first"}, "protocol_rank"),
            ({"names": {}}, "names"),
            ({"names": {"xx-nowhere-1": "Bob"}}, "names"),
            ({"title": {"en": " "}}, "title"),
            ({"email": "not an address"}, "email"),
        ],
    )
    assert_refused(
        inline_api,
        lambda body: inline_api.patch(f"/officials/{official_id}", json=body),
        [
            ({}, "at least one field"),
            ({"protocol_rank": -1}, "protocol_rank"),
            ({"names": None}, "names"),
        ],
    )


def test_an_invalid_venue_is_refused(inline_api: InlineApi) -> None:
    venue_id = Office(inline_api).venue()
    assert_refused(
        inline_api,
        lambda body: inline_api.post("/venues", json={**sample_venue(), **body}),
        [
            ({"capacity": -5}, "capacity"),
            ({"capacity": 0}, "capacity"),
            ({"timezone": "Taipei"}, "timezone"),
            ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
            ({"names": "Hall"}, "names"),
        ],
    )
    assert_refused(
        inline_api,
        lambda body: inline_api.patch(f"/venues/{venue_id}", json=body),
        [
            ({}, "at least one field"),
            ({"timezone": "UTC+8"}, "timezone"),
            ({"capacity": None}, "capacity"),
        ],
    )


def test_an_invalid_visit_request_is_refused(inline_api: InlineApi) -> None:
    head = sample_visit()["head_of_delegation"]
    assert_refused(
        inline_api,
        lambda body: inline_api.post("/visits", json=sample_visit(**body)),
        [
            ({"members": -1}, "members"),
            ({"members": 0}, "members"),
            ({"requested_from": "2026-05-04"}, "requested_to"),
            ({"requested_to": "2026-02-30"}, "requested_to"),
            ({"delegation": {}}, "partner_id"),
            ({"delegation": {"partner_id": "p", "organisation": {"en": "X"}}}, "exactly one"),
            ({"delegation": {"partner_id": "no-such-partner"}}, "partner_id"),
            ({"head_of_delegation": {**head, "protocol_rank": 0}}, "protocol_rank"),
            ({"head_of_delegation": {"names": {"en": "Bob"}}}, "title"),
            ({"languages": ["klingon-x"]}, "languages"),
            ({"purpose": {}}, "purpose"),
            ({"contact": {"name": "Sato", "email": "not-an-email"}}, "email"),
            ({"contact": {"name": "Sato", "phone": "call me"}}, "phone"),
            ({"dietary_notes": "ok\x00"}, "dietary_notes"),
            ({"status": "approved"}, "status"),
        ],
    )


def test_an_invalid_lifecycle_step_is_refused(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    visit_id = office.visit()
    for command in ("approve", "decline", "schedule", "cancel", "complete"):
        assert_refused(
            inline_api,
            posting_to(inline_api, f"/visits/{visit_id}/{command}"),
            [({"reason": ""}, "reason"), ({"why": "because"}, "why")],
        )
    scheduled = office.visit("approve", "schedule", delegation={"partner_id": office.partner()})
    summary = {"en": "Talks"}
    assert_refused(
        inline_api,
        lambda body: inline_api.post(f"/visits/{scheduled}/complete", json={"exchange": body}),
        [
            ({"field": "gossip", "summary": summary}, "field"),
            ({"field": "culture", "summary": summary, "direction": "sideways"}, "direction"),
            ({"field": "culture", "summary": {}}, "summary"),
            ({"field": "culture", "summary": summary, "participants": -3}, "participants"),
            ({"field": "culture", "summary": summary, "date": "someday"}, "date"),
        ],
    )
    assert office.status(visit_id) == "requested"


def test_an_invalid_itinerary_item_is_refused(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    visit_id, venue_id = office.visit(), office.venue()
    place = {"names": {"en": "Port"}, "timezone": "Asia/Taipei"}
    assert_refused(
        inline_api,
        lambda body: inline_api.post(
            f"/visits/{visit_id}/itinerary",
            json={**sample_item(TEN, ELEVEN, venue_id=venue_id), **body},
        ),
        [
            ({"ends_at": "2026-05-01T09:00:00+08:00"}, "ends_at"),
            ({"ends_at": TEN}, "ends_at"),
            ({"starts_at": "2026-05-01T10:00:00"}, "starts_at"),
            ({"starts_at": "tomorrow"}, "starts_at"),
            ({"venue_id": None}, "venue_id"),
            ({"place": place}, "place"),
            ({"venue_id": "no-such-venue"}, "venue_id"),
            ({"official_ids": ["no-such-official"]}, "official_ids"),
            ({"venue_id": None, "place": {**place, "timezone": "Nowhere/City"}}, "timezone"),
            ({"titles": {}}, "titles"),
            ({"press": "maybe"}, "press"),
            ({"override": {"reason": ""}}, "reason"),
            ({"override": {"reason": "x", "conflicts": []}}, "conflicts"),
        ],
    )
    mayor = office.official()
    assert_refused(
        inline_api,
        lambda body: inline_api.post(
            f"/visits/{visit_id}/itinerary",
            json=sample_item(TEN, ELEVEN, venue_id=venue_id, **body),
        ),
        [({"official_ids": [mayor, mayor]}, "official_ids")],
    )


def test_an_invalid_itinerary_change_or_removal_is_refused(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    visit_id = office.visit()
    item_id = accepted_id(office.add_item(visit_id, TEN, ELEVEN, venue_id=office.venue()))
    url = f"/visits/{visit_id}/itinerary/{item_id}"
    assert_refused(
        inline_api,
        lambda body: inline_api.patch(url, json=body),
        [
            ({}, "at least one field"),
            ({"override": {"reason": "x"}}, "at least one field"),
            ({"press": None}, "press"),
            ({"ends_at": "2026-05-01T09:59:00+08:00"}, "ends_at"),
            ({"starts_at": ELEVEN}, "ends_at"),
            ({"venue_id": None}, "venue_id"),
            ({"venue_id": "no-such-venue"}, "venue_id"),
            ({"official_ids": ["nobody"]}, "official_ids"),
            ({"item_id": "other"}, "item_id"),
        ],
    )
    assert_refused(
        inline_api,
        lambda body: inline_api.request("DELETE", url, json=body),
        [({"reason": ""}, "reason"), ({"because": "x"}, "because")],
    )


def test_unknown_ids_answer_404_and_record_nothing(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    visit_id = office.visit()
    item = sample_item(TEN, ELEVEN, venue_id=office.venue())
    before = outbox_size(inline_api)

    for method, url, body in [
        ("GET", "/officials/nope", None),
        ("PATCH", "/officials/nope", {"protocol_rank": 3}),
        ("GET", "/venues/nope", None),
        ("PATCH", "/venues/nope", {"capacity": 3}),
        ("GET", "/visits/nope", None),
        ("POST", "/visits/nope/approve", None),
        ("POST", "/visits/nope/complete", None),
        ("GET", "/visits/nope/itinerary", None),
        ("POST", "/visits/nope/itinerary", item),
        ("GET", f"/visits/{visit_id}/itinerary/nope", None),
        ("PATCH", f"/visits/{visit_id}/itinerary/nope", {"press": True}),
        ("DELETE", f"/visits/{visit_id}/itinerary/nope", None),
    ]:
        response = inline_api.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.text)
    assert outbox_size(inline_api) == before


def test_an_item_of_another_visit_is_not_found_under_this_one(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    item_id = accepted_id(office.add_item(office.visit(), TEN, ELEVEN, venue_id=office.venue()))

    assert inline_api.get(f"/visits/{office.visit()}/itinerary/{item_id}").status_code == 404


PERSONAL = {"dietary_notes", "accessibility_notes", "contact"}


def test_personal_data_is_shown_to_staff_with_access(inline_api: InlineApi) -> None:
    visit_id = Office(inline_api).visit()

    visit = inline_api.get(f"/visits/{visit_id}").json()

    assert visit["dietary_notes"] == "two vegetarians"
    assert visit["accessibility_notes"] == "one wheelchair user"
    assert visit["contact"] == {**sample_visit()["contact"], "language": None}


def test_personal_data_is_left_out_without_access(inline_api: InlineApi) -> None:
    visit_id = Office(inline_api).visit()
    inline_api.app.dependency_overrides[get_personal_data_access] = lambda: False

    one = inline_api.get(f"/visits/{visit_id}")
    listed = inline_api.get("/visits")

    for visit in (one.json(), *listed.json()):
        assert PERSONAL.isdisjoint(visit), visit
        assert visit["head_of_delegation"]["names"]["en"] == "Ichiro Sato"
    for secret in ("Hanako", "sato@example.jp", "vegetarian", "wheelchair"):
        assert secret not in one.text + listed.text


def test_the_visit_list_filters_by_status_and_partner_and_pages(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    partner_id = office.partner()
    approved = office.visit("approve", delegation={"partner_id": partner_id})
    requested = office.visit(delegation={"partner_id": partner_id}, requested_from="2026-04-01")
    other = office.visit("approve")

    def ids(**params: Any) -> list[str]:
        response = inline_api.get("/visits", params=params)
        assert response.status_code == 200, response.text
        return [visit["id"] for visit in response.json()]

    assert ids(status="approved") == sorted([approved, other])
    assert ids(partner_id=partner_id) == [approved, requested]
    assert ids(partner_id=partner_id, status="requested") == [requested]
    assert ids(limit=1, offset=2) == [requested]
    assert inline_api.get("/visits", params={"status": "lost"}).status_code == 422
    assert inline_api.get("/visits", params={"limit": 0}).status_code == 422


def test_officials_list_in_protocol_order_and_venues_page(inline_api: InlineApi) -> None:
    office = Office(inline_api)
    deputy, mayor = office.official(1), office.official(0, protocol_rank=1)
    for n in range(2):
        office.venue(n)

    officials = inline_api.get("/officials").json()
    venues = inline_api.get("/venues", params={"limit": 1}).json()

    assert [o["id"] for o in officials] == [mayor, deputy]
    assert len(venues) == 1
