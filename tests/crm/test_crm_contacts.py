"""Contacts are personal data: only callers with personal-data access read them, no other
resource shows them, and erasing one removes it from the read model and from the stored
copies of its events."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from conftest import LocalApi, external_event, sample_partner
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
def partner_id(local_api: LocalApi) -> str:
    return str(local_api.command("POST", "/partners", json=sample_partner())["id"])


def add_contact(local_api: LocalApi, partner_id: str, **overrides: Any) -> str:
    body = sample_contact(partner_id=partner_id, **overrides)
    return str(local_api.command("POST", "/contacts", json=body)["id"])


def test_a_contact_is_read_back_by_staff_with_personal_data_access(
    local_api: LocalApi, partner_id: str
) -> None:
    contact_id = add_contact(local_api, partner_id)
    contact = local_api.client.get(f"/contacts/{contact_id}").json()
    assert (contact["name"], contact["email"], contact["partner_id"], contact["mission_id"]) == (
        "Hanako Yamada",
        EMAIL,
        partner_id,
        None,
    )


def test_contacts_are_listed_by_partner_or_mission(local_api: LocalApi, partner_id: str) -> None:
    other = local_api.command("POST", "/partners", json=sample_partner(2))["id"]
    mission = local_api.command(
        "POST",
        "/missions",
        json={"names": {"en": "Trade Office"}, "country": "FR", "kind": "trade-office"},
    )["id"]
    add_contact(local_api, partner_id, name="A")
    add_contact(local_api, other, name="B")
    local_api.command("POST", "/contacts", json=sample_contact(mission_id=mission, name="C"))

    def names(**params: str) -> list[str]:
        return [c["name"] for c in local_api.client.get("/contacts", params=params).json()]

    assert names(partner_id=partner_id) == ["A"]
    assert names(mission_id=mission) == ["C"]
    assert names() == ["A", "B", "C"]


def test_without_personal_data_access_every_contact_read_is_forbidden(
    local_api: LocalApi, partner_id: str
) -> None:
    contact_id = add_contact(local_api, partner_id)
    local_api.app.dependency_overrides[get_personal_data_access] = lambda: False
    assert local_api.client.get(f"/contacts/{contact_id}").status_code == 403
    assert local_api.client.get("/contacts").status_code == 403
    assert local_api.client.get("/contacts", params={"partner_id": partner_id}).status_code == 403


def test_no_other_response_shows_a_contact(local_api: LocalApi, partner_id: str) -> None:
    add_contact(local_api, partner_id)
    for url in (
        "/partners",
        f"/partners/{partner_id}",
        f"/partners/{partner_id}/stats",
        "/partners/stats",
        "/missions",
        "/exchanges",
    ):
        response = local_api.client.get(url)
        assert response.status_code == 200, url
        assert "Yamada" not in response.text and EMAIL not in response.text, url


def test_a_contact_update_changes_what_it_names_and_can_clear_optional_facts(
    local_api: LocalApi, partner_id: str
) -> None:
    contact_id = add_contact(local_api, partner_id)
    local_api.command(
        "PATCH", f"/contacts/{contact_id}", json={"title": "Deputy Mayor", "phone": None}
    )
    contact = local_api.client.get(f"/contacts/{contact_id}").json()
    assert (contact["title"], contact["phone"], contact["email"], contact["version"]) == (
        "Deputy Mayor",
        None,
        EMAIL,
        2,
    )


def test_an_erased_contact_is_gone_and_its_stored_events_hold_no_personal_data(
    local_api: LocalApi, partner_id: str
) -> None:
    with RecordedLogs() as logged:
        contact_id = add_contact(local_api, partner_id)
        local_api.command("PATCH", f"/contacts/{contact_id}", json={"phone": "+81 3-9999-0000"})
        local_api.projection.apply(b'{"type": "ContactRegistered", "payload": {"email": "x@y.z"}}')
        erased = local_api.client.delete(f"/contacts/{contact_id}")
        assert erased.status_code == 202
        assert local_api.deliver() == ["applied"]
    assert logged.records, "the log capture saw nothing"
    assert not any(secret in logged.text() for secret in ("Yamada", EMAIL, "9999", "x@y.z"))

    assert local_api.client.get(f"/contacts/{contact_id}").status_code == 404
    assert local_api.client.get("/contacts").json() == []
    for model in (ArchivedEvent, OutboxEvent):
        bodies = [
            row.body for row in local_api.projection.rows(model) if row.aggregate_id == contact_id
        ]
        assert len(bodies) == 3
        assert not any("Yamada" in b or EMAIL in b or "9999" in b for b in bodies), model

    local_api.projection.rebuild()
    assert local_api.projection.rows(Contact) == []


def test_a_redelivered_registration_does_not_bring_an_erased_contact_back(
    local_api: LocalApi, partner_id: str
) -> None:
    response = local_api.client.post("/contacts", json=sample_contact(partner_id=partner_id))
    [original] = local_api.projection.rows(OutboxEvent)[1:]
    local_api.deliver()
    local_api.client.delete(f"/contacts/{response.json()['id']}")
    local_api.deliver()
    assert local_api.projection.apply(original.body.encode()) == ["duplicate"]
    assert local_api.projection.rows(Contact) == []


def test_contact_events_from_an_external_producer_are_applied_like_the_apis(
    local_api: LocalApi, partner_id: str
) -> None:
    def message(kind: str, payload: dict[str, Any]) -> bytes:
        return external_event(kind, payload, aggregate_id="crm-sync-7", actor="address-book-sync")

    outcomes = local_api.projection.apply(
        message("ContactUpdated", {"title": "Mayor"}),  # before its registration: parked
        message("ContactRegistered", {"partner_id": partner_id, "name": "Ji-woo Park"}),
    )
    assert outcomes == ["parked", "applied"]
    contact = local_api.client.get("/contacts/crm-sync-7").json()
    assert (contact["name"], contact["title"]) == ("Ji-woo Park", "Mayor")
    assert local_api.projection.apply(message("ContactErased", {})) == ["applied"]
    assert local_api.client.get("/contacts/crm-sync-7").status_code == 404


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
    local_api: LocalApi, partner_id: str, change: dict[str, Any], field: str
) -> None:
    response = local_api.client.post(
        "/contacts", json={**sample_contact(partner_id=partner_id), **change}
    )
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"]), response.json()


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
    local_api: LocalApi, partner_id: str, change: dict[str, Any], field: str
) -> None:
    contact_id = add_contact(local_api, partner_id)
    response = local_api.client.patch(f"/contacts/{contact_id}", json=change)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_unknown_contacts_and_owners_answer_404(local_api: LocalApi) -> None:
    assert local_api.client.get("/contacts/nope").status_code == 404
    assert local_api.client.patch("/contacts/nope", json={"title": "x"}).status_code == 404
    assert local_api.client.delete("/contacts/nope").status_code == 404
    assert (
        local_api.client.post("/contacts", json=sample_contact(partner_id="nope")).status_code
        == 404
    )
    assert (
        local_api.client.post("/contacts", json=sample_contact(mission_id="nope")).status_code
        == 404
    )
    assert local_api.projection.rows(OutboxEvent) == []


def test_a_contact_registered_and_erased_in_one_batch_leaves_no_personal_data(
    local_api: LocalApi, partner_id: str
) -> None:
    """The worker archives a batch after applying it: the erasure must still reach the
    registration archived in the same transaction."""
    contact = ContactRegistered.model_validate(sample_contact(partner_id=partner_id))
    registered = new_event(contact, aggregate_id="c-1", actor="staff")
    erased = new_event(ContactErased(), aggregate_id="c-1", actor="staff")
    assert local_api.projection.apply_batch(registered, erased) == ["applied", "applied"]
    bodies = [row.body for row in local_api.projection.rows(ArchivedEvent)]
    assert len(bodies) == 3  # the partner, the registration, the erasure
    assert not any("Yamada" in body or EMAIL in body for body in bodies)
    assert local_api.projection.rows(Contact) == []
