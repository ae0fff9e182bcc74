"""Contacts are personal data: only callers with personal-data access read them, no other
resource shows them, and erasing one removes it from the read model and from the stored
copies of its events."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from conftest import InlineApi, command, external_event, sample_partner
from twinning.api.deps import get_personal_data_access
from twinning.crm.models import Contact
from twinning.streams.events import ContactErased, ContactRegistered, new_event
from twinning.streams.store import ArchivedEvent, OutboxEvent

EMAIL = "hanako.yamada@city.example.jp"


class RecordedLogs(logging.Handler):
    """The log records of the whole process at the level twinning runs at (info)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def __enter__(self) -> RecordedLogs:
        root = logging.getLogger()
        self._level = root.level
        root.addHandler(self)
        root.setLevel(logging.INFO)
        return self

    def __exit__(self, *_exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)


def sample_contact(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Hanako Yamada",
        "title": "Director, International Relations",
        "organisation": "City of Testville",
        "email": EMAIL,
        "phone": "+81 3-1234-5678",
        "preferred_language": "ja",
        **overrides,
    }


@pytest.fixture
def partner_id(inline_api: InlineApi) -> str:
    return str(command(inline_api, "POST", "/partners", json=sample_partner())["id"])


def add_contact(inline_api: InlineApi, partner_id: str, **overrides: Any) -> str:
    body = sample_contact(partner_id=partner_id, **overrides)
    return str(command(inline_api, "POST", "/contacts", json=body)["id"])


def test_a_contact_is_read_back_by_staff_with_personal_data_access(
    inline_api: InlineApi, partner_id: str
) -> None:
    contact_id = add_contact(inline_api, partner_id)
    contact = inline_api.get(f"/contacts/{contact_id}").json()
    assert (contact["name"], contact["email"], contact["partner_id"], contact["mission_id"]) == (
        "Hanako Yamada",
        EMAIL,
        partner_id,
        None,
    )


def test_contacts_are_listed_by_partner_or_mission(inline_api: InlineApi, partner_id: str) -> None:
    other = command(inline_api, "POST", "/partners", json=sample_partner(2))["id"]
    mission = command(
        inline_api,
        "POST",
        "/missions",
        json={"names": {"en": "Trade Office"}, "country": "FR", "kind": "trade-office"},
    )["id"]
    add_contact(inline_api, partner_id, name="A")
    add_contact(inline_api, other, name="B")
    command(inline_api, "POST", "/contacts", json=sample_contact(mission_id=mission, name="C"))

    def names(**params: str) -> list[str]:
        return [c["name"] for c in inline_api.get("/contacts", params=params).json()]

    assert names(partner_id=partner_id) == ["A"]
    assert names(mission_id=mission) == ["C"]
    assert names() == ["A", "B", "C"]


def test_without_personal_data_access_every_contact_read_is_forbidden(
    inline_api: InlineApi, partner_id: str
) -> None:
    contact_id = add_contact(inline_api, partner_id)
    inline_api.app.dependency_overrides[get_personal_data_access] = lambda: False
    assert inline_api.get(f"/contacts/{contact_id}").status_code == 403
    assert inline_api.get("/contacts").status_code == 403
    assert inline_api.get("/contacts", params={"partner_id": partner_id}).status_code == 403


def test_no_other_response_shows_a_contact(inline_api: InlineApi, partner_id: str) -> None:
    add_contact(inline_api, partner_id)
    for url in (
        "/partners",
        f"/partners/{partner_id}",
        f"/partners/{partner_id}/stats",
        "/partners/stats",
        "/missions",
        "/exchanges",
    ):
        response = inline_api.get(url)
        assert response.status_code == 200, url
        assert "Yamada" not in response.text and EMAIL not in response.text, url


def test_a_contact_update_changes_what_it_names_and_can_clear_optional_facts(
    inline_api: InlineApi, partner_id: str
) -> None:
    contact_id = add_contact(inline_api, partner_id)
    command(
        inline_api,
        "PATCH",
        f"/contacts/{contact_id}",
        json={"title": "Deputy Mayor", "phone": None},
    )
    contact = inline_api.get(f"/contacts/{contact_id}").json()
    assert (contact["title"], contact["phone"], contact["email"], contact["version"]) == (
        "Deputy Mayor",
        None,
        EMAIL,
        2,
    )


def test_an_erased_contact_is_gone_and_its_stored_events_hold_no_personal_data(
    inline_api: InlineApi, partner_id: str
) -> None:
    with RecordedLogs() as logged:
        contact_id = add_contact(inline_api, partner_id)
        command(inline_api, "PATCH", f"/contacts/{contact_id}", json={"phone": "+81 3-9999-0000"})
        inline_api.apply(b'{"type": "ContactRegistered", "payload": {"email": "x@y.z"}}')
        erased = command(inline_api, "DELETE", f"/contacts/{contact_id}")
    assert inline_api.get(f"/events/{erased['event_id']}").json()["status"] == "applied"
    assert logged.records, "the log capture saw nothing"
    assert not any(secret in logged.text() for secret in ("Yamada", EMAIL, "9999", "x@y.z"))

    assert inline_api.get(f"/contacts/{contact_id}").status_code == 404
    assert inline_api.get("/contacts").json() == []
    for model in (ArchivedEvent, OutboxEvent):
        bodies = [row.body for row in inline_api.rows(model) if row.aggregate_id == contact_id]
        assert len(bodies) == 3
        assert not any("Yamada" in b or EMAIL in b or "9999" in b for b in bodies), model

    inline_api.rebuild()
    assert inline_api.rows(Contact) == []


def test_a_redelivered_registration_does_not_bring_an_erased_contact_back(
    inline_api: InlineApi, partner_id: str
) -> None:
    contact_id = add_contact(inline_api, partner_id)
    [original] = inline_api.rows(OutboxEvent)[1:]
    command(inline_api, "DELETE", f"/contacts/{contact_id}")
    assert inline_api.apply(original.body.encode()) == ["duplicate"]
    assert inline_api.rows(Contact) == []


def test_contact_events_from_an_external_producer_are_applied_like_the_apis(
    inline_api: InlineApi, partner_id: str
) -> None:
    def message(kind: str, payload: dict[str, Any]) -> bytes:
        return external_event(kind, payload, aggregate_id="crm-sync-7", actor="address-book-sync")

    outcomes = inline_api.apply(
        message("ContactUpdated", {"title": "Mayor"}),  # before its registration: parked
        message("ContactRegistered", {"partner_id": partner_id, "name": "Ji-woo Park"}),
    )
    assert outcomes == ["parked", "applied"]
    contact = inline_api.get("/contacts/crm-sync-7").json()
    assert (contact["name"], contact["title"]) == ("Ji-woo Park", "Mayor")
    assert inline_api.apply(message("ContactErased", {})) == ["applied"]
    assert inline_api.get("/contacts/crm-sync-7").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"preferred_language": "klingon-of-mars"}, "preferred_language"),
        ({"partner_id": None}, "body"),  # neither a partner nor a mission
        ({"mission_id": "m-1"}, "body"),  # both
        ({"birthday": "1970-01-01"}, "birthday"),
    ],
)
def test_an_invalid_contact_is_refused_with_422_naming_the_field(
    inline_api: InlineApi, partner_id: str, change: dict[str, Any], field: str
) -> None:
    response = inline_api.post(
        "/contacts", json={**sample_contact(partner_id=partner_id), **change}
    )
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"]), response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({}, "body"),
        ({"name": None}, "name"),
        ({"email": "@"}, "email"),
        ({"partner_id": "p"}, "partner_id"),
    ],
)
def test_an_invalid_contact_update_is_refused_with_422(
    inline_api: InlineApi, partner_id: str, change: dict[str, Any], field: str
) -> None:
    contact_id = add_contact(inline_api, partner_id)
    response = inline_api.patch(f"/contacts/{contact_id}", json=change)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"])


def test_unknown_contacts_and_owners_answer_404(inline_api: InlineApi) -> None:
    assert inline_api.get("/contacts/nope").status_code == 404
    assert inline_api.patch("/contacts/nope", json={"title": "x"}).status_code == 404
    assert inline_api.delete("/contacts/nope").status_code == 404
    assert inline_api.post("/contacts", json=sample_contact(partner_id="nope")).status_code == 404
    assert inline_api.post("/contacts", json=sample_contact(mission_id="nope")).status_code == 404
    assert inline_api.rows(OutboxEvent) == []


def test_a_contact_registered_and_erased_in_one_batch_leaves_no_personal_data(
    inline_api: InlineApi, partner_id: str
) -> None:
    """The worker archives a batch after applying it: the erasure must still reach the
    registration archived in the same transaction."""
    contact = ContactRegistered.model_validate(sample_contact(partner_id=partner_id))
    registered = new_event(contact, aggregate_id="c-1", actor="staff")
    erased = new_event(ContactErased(), aggregate_id="c-1", actor="staff")
    assert inline_api.apply_batch(registered, erased) == ["applied", "applied"]
    bodies = [row.body for row in inline_api.rows(ArchivedEvent)]
    assert len(bodies) == 3  # the partner, the registration, the erasure
    assert not any("Yamada" in body or EMAIL in body for body in bodies)
    assert inline_api.rows(Contact) == []
