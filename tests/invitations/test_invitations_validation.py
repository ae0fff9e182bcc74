"""Bad input to every city-event and invitation command: 422 naming the field, unknown ids
404, and nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import InlineApi, each_database_in_turn, sample_partner
from invitations_office import Office, sample_city_event

NEW_EVENT = sample_city_event()


def _new_event(**change: Any) -> dict[str, Any]:
    return {**NEW_EVENT, **change}


def _invitations(**change: Any) -> dict[str, Any]:
    return {"answer_by": "2026-09-20", "invitees": [{"kind": "mission", "id": "m-1"}], **change}


def _rsvp(**change: Any) -> dict[str, Any]:
    return {"answer": "accepted-in-person", "delegates": 2, "received_via": "letter", **change}


COMPLETION = {"field": "culture", "summary": {"en": "Done."}}

BAD_INPUT = [
    # schedule
    ("post", "/city-events", _new_event(ends_at="2026-10-10T08:00:00+08:00"), "ends_at"),
    ("post", "/city-events", _new_event(ends_at=NEW_EVENT["starts_at"]), "ends_at"),
    ("post", "/city-events", _new_event(starts_at="2026-10-10T09:00:00"), "starts_at"),
    ("post", "/city-events", _new_event(video_link="not a url"), "video_link"),
    ("post", "/city-events", _new_event(video_link="ftp://video.example/x"), "video_link"),
    ("post", "/city-events", _new_event(timezone="Asia/Atlantis"), "timezone"),
    ("post", "/city-events", _new_event(kind="parade"), "kind"),
    ("post", "/city-events", _new_event(title={}), "title"),
    ("post", "/city-events", _new_event(title={"xx-nope-nope": "x"}), "title"),
    ("post", "/city-events", _new_event(venue={}), "venue"),
    ("post", "/city-events", _new_event(venue={"venue_id": "v", "place": "p"}), "venue"),
    ("post", "/city-events", _new_event(open_to_partners="maybe"), "open_to_partners"),
    ("post", "/city-events", _new_event(colour="red"), "colour"),
    # change
    ("patch", "/city-events/{event}", {}, "body"),
    ("patch", "/city-events/{event}", {"ends_at": "2026-10-10T08:00:00+08:00"}, "ends_at"),
    ("patch", "/city-events/{event}", {"starts_at": "2026-10-10T18:00:00+08:00"}, "starts_at"),
    ("patch", "/city-events/{event}", {"ends_at": None}, "ends_at"),
    ("patch", "/city-events/{event}", {"title": None}, "title"),
    ("patch", "/city-events/{event}", {"video_link": "javascript:alert(1)"}, "video_link"),
    # cancel, complete
    ("post", "/city-events/{event}/cancel", {"reason": "   "}, "reason"),
    ("post", "/city-events/{event}/complete", {**COMPLETION, "field": "magic"}, "field"),
    ("post", "/city-events/{event}/complete", {**COMPLETION, "summary": {}}, "summary"),
    ("post", "/city-events/{event}/complete", {**COMPLETION, "participants": -1}, "participants"),
    ("post", "/city-events/{event}/complete", {"summary": {"en": "x"}}, "field"),
    # invite
    ("post", "/city-events/{event}/invitations", _invitations(invitees=[]), "invitees"),
    ("post", "/city-events/{event}/invitations", _invitations(answer_by="soon"), "answer_by"),
    ("post", "/city-events/{event}/invitations", _invitations(answer_by="2026-10-11"), "answer_by"),
    (
        "post",
        "/city-events/{event}/invitations",
        _invitations(invitees=[{"kind": "embassy", "id": "x"}]),
        "kind",
    ),
    (
        "post",
        "/city-events/{event}/invitations",
        _invitations(invitees=[{"kind": "mission", "id": "m"}, {"kind": "mission", "id": "m"}]),
        "invitees",
    ),
    (
        "post",
        "/city-events/{event}/invitations",
        {"invitees": [{"kind": "mission", "id": "m"}]},
        "answer_by",
    ),
    # answer, withdraw
    ("post", "/invitations/{invitation}/rsvp", _rsvp(delegates=0), "delegates"),
    ("post", "/invitations/{invitation}/rsvp", _rsvp(delegates=None), "delegates"),
    ("post", "/invitations/{invitation}/rsvp", _rsvp(answer="declined"), "delegates"),
    ("post", "/invitations/{invitation}/rsvp", _rsvp(answer="maybe"), "answer"),
    ("post", "/invitations/{invitation}/rsvp", _rsvp(received_via="pigeon"), "received_via"),
    ("post", "/invitations/{invitation}/rsvp", {"answer": "declined"}, "received_via"),
    ("post", "/invitations/{invitation}/rsvp", _rsvp(note="\x1b[31m"), "note"),
    ("post", "/invitations/{invitation}/withdraw", {"reason": ""}, "reason"),
]


@pytest.fixture
def office(inline_api: InlineApi) -> Office:
    return Office(inline_api)


@each_database_in_turn("invitations-bad-input")
@pytest.mark.parametrize(("method", "path", "body", "field"), BAD_INPUT)
def test_bad_input_is_refused_with_422_naming_the_field_and_nothing_is_recorded(
    shared_api: InlineApi, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    office = Office(shared_api)  # one system per database: the test makes its own event
    city_event_id = office.city_event()
    [invitation_id] = office.invite(city_event_id, ("mission", "m-0"))
    recorded = office.outbox_size()

    response = getattr(office, method)(
        path.format(event=city_event_id, invitation=invitation_id), body
    )

    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(field in error["loc"] for error in errors), errors
    assert all(error["msg"] for error in errors)
    assert office.outbox_size() == recorded


def test_bad_list_filters_are_refused_with_422(office: Office) -> None:
    for params in ({"from": "2026-11-01", "to": "2026-10-01"}, {"status": "done"}, {"limit": "0"}):
        response = office.api.get("/city-events", params=params)
        assert response.status_code == 422, params


@pytest.mark.parametrize("number", ["0", "1767225600", "-3.5"])
def test_a_day_given_as_a_number_is_refused_not_read_as_a_unix_time(
    office: Office, number: str
) -> None:
    # The document says `format: date`; pydantic alone would read a number as seconds since 1970.
    response = office.api.get("/city-events", params={"to": number})
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == ["query", "to"], error
    assert "YYYY-MM-DD" in error["msg"], error
    assert office.api.get("/city-events", params={"to": "2026-10-01"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/city-events/nope", None),
        ("get", "/city-events/nope/invitations", None),
        ("get", "/city-events/nope/invitations/summary", None),
        ("patch", "/city-events/nope", {"kind": "forum"}),
        ("post", "/city-events/nope/cancel", None),
        ("post", "/city-events/nope/complete", COMPLETION),
        ("post", "/city-events/nope/invitations", _invitations()),
        ("get", "/invitations/nope", None),
        ("post", "/invitations/nope/withdraw", None),
        ("post", "/invitations/nope/rsvp", _rsvp()),
    ],
)
def test_unknown_city_events_and_invitations_answer_404(
    office: Office, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = office.api.request(method.upper(), path, json=body)

    assert response.status_code == 404
    assert "nope not found" in response.json()["detail"]
    assert office.outbox_size() == 0


def test_inviting_an_unknown_partner_city_answers_404_naming_it(office: Office) -> None:
    city_event_id = office.city_event()
    known = office.partner()
    body = _invitations(
        invitees=[{"kind": "partner", "id": known}, {"kind": "partner", "id": "p-x"}]
    )

    response = office.post(f"/city-events/{city_event_id}/invitations", body)

    assert response.status_code == 404
    assert response.json()["detail"] == "partner cities not found: p-x"
    assert office.get(f"/city-events/{city_event_id}/invitations") == []


def test_a_partner_registered_a_moment_ago_can_be_invited_before_the_worker_applied_it(
    office: Office,
) -> None:
    city_event_id = office.city_event()
    # Straight to the API, without catching up: the worker has not seen the partner yet.
    partner_id = office.post_before_the_worker("/partners", sample_partner()).json()["id"]

    body = _invitations(invitees=[{"kind": "partner", "id": partner_id}])
    office.accepted(office.post(f"/city-events/{city_event_id}/invitations", body))
