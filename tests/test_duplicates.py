"""An event id names one event. The same id again with the same body is a redelivery (a no-op);
with another body it is a different event under a used id: dead-lettered as a conflicting
duplicate, naming both bodies' digests, and the first stands (issue 20, item 5)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any, cast

import pytest
from conftest import InlineApi, Projection, command, external_event, sample_partner
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import PartnerCity
from twinning.streams.events import ContactRegistered
from twinning.streams.redaction import redact
from twinning.streams.store import ArchivedEvent, DeadLetter, OutboxEvent, ParkedEvent

DIGEST = re.compile(r"sha256:([0-9a-f]{16})")


def registration(aggregate_id: str, n: int = 1, **extra: object) -> bytes:
    return external_event(
        "PartnerCityRegistered", sample_partner(n), aggregate_id=aggregate_id, **extra
    )


def other_body(raw: bytes, **payload: object) -> bytes:
    """The same envelope (same event id) with a payload changed."""
    document = json.loads(raw)
    document["payload"] = {**document["payload"], **payload}
    return json.dumps(document).encode()


def respelled(raw: bytes) -> bytes:
    """The same document spelled otherwise: keys in another order, other spacing."""
    document = json.loads(raw)
    return json.dumps(
        dict(reversed(document.items())) | {"payload": dict(reversed(document["payload"].items()))},
        indent=3,
    ).encode()


def assert_conflict_named(reason: str, event_id: str) -> None:
    assert reason.startswith("conflicting duplicate"), reason
    assert event_id in reason, reason
    first, this = DIGEST.findall(reason)
    assert first != this, reason


def test_the_same_event_again_is_a_no_op_however_it_is_spelled(projection: Projection) -> None:
    raw = registration("p-1")
    assert projection.apply(raw, raw, respelled(raw)) == ["applied", "duplicate", "duplicate"]
    assert projection.apply_batch(raw, respelled(raw)) == ["duplicate", "duplicate"]
    assert projection.rows(DeadLetter) == []
    assert projection.dead_letters == []
    assert len(projection.rows(ArchivedEvent)) == 1


def test_the_same_id_with_another_body_is_dead_lettered_and_the_first_stands(
    projection: Projection,
) -> None:
    raw = registration("p-1")
    event_id = json.loads(raw)["event_id"]
    forged = other_body(raw, names={"en": "Forgery"})
    later = registration("p-2", n=2)

    assert projection.apply(raw, forged, later) == ["applied", "dead-lettered", "applied"]

    [letter] = projection.rows(DeadLetter)
    assert letter.event_id == event_id
    assert_conflict_named(letter.reason, event_id)
    assert json.loads(letter.raw)["payload"]["names"] == {"en": "Forgery"}
    [sent] = projection.dead_letters  # also on the dead-letter topic, with the same reason
    assert (sent.event_id, sent.reason) == (event_id, letter.reason)
    names = {p.id: p.names["en"] for p in projection.rows(PartnerCity)}
    assert names == {"p-1": "Testville 1", "p-2": "Testville 2"}
    assert len(projection.rows(ArchivedEvent)) == 2
    # Redelivered, the conflicting one is refused again, the original is still a no-op.
    assert projection.apply(forged, raw) == ["dead-lettered", "duplicate"]


def test_another_envelope_under_the_same_id_conflicts_too(projection: Projection) -> None:
    raw = registration("p-1")
    other_actor = json.dumps({**json.loads(raw), "actor": "someone-else"}).encode()
    assert projection.apply(raw, other_actor) == ["applied", "dead-lettered"]
    [letter] = projection.rows(DeadLetter)
    assert_conflict_named(letter.reason, json.loads(raw)["event_id"])


def test_in_one_batch_the_first_of_an_id_is_applied_and_another_body_dead_lettered(
    projection: Projection,
) -> None:
    raw = registration("p-1")
    event_id = json.loads(raw)["event_id"]
    forged = other_body(raw, country="KR")
    after = registration("p-2", n=2)

    outcomes = projection.apply_batch(raw, respelled(raw), forged, after)

    assert outcomes == ["applied", "duplicate", "dead-lettered", "applied"]
    [letter] = projection.rows(DeadLetter)
    assert_conflict_named(letter.reason, event_id)
    assert {p.id: p.country for p in projection.rows(PartnerCity)} == {"p-1": "JP", "p-2": "JP"}


def test_a_parked_event_and_another_body_under_its_id_the_first_waits_and_applies(
    inline_api: InlineApi,
) -> None:
    partner = str(uuid.uuid4())
    early = external_event("PartnerCityUpdated", {"region": "Kansai"}, aggregate_id=partner)
    event_id = json.loads(early)["event_id"]
    forged = other_body(early, region="Nowhere")

    assert inline_api.apply(early, forged, early) == ["parked", "dead-lettered", "parked"]
    [letter] = inline_api.rows(DeadLetter)
    assert_conflict_named(letter.reason, event_id)
    assert len(inline_api.rows(ParkedEvent)) == 1
    # Where the event is: still waiting (the conflicting one is a dead letter beside it).
    assert inline_api.get(f"/events/{event_id}").json()["status"] == "parked"

    assert inline_api.apply(registration(partner)) == ["applied"]
    partner_city = inline_api.get(f"/partners/{partner}").json()
    assert (partner_city["region"], partner_city["version"]) == ("Kansai", 2)
    assert inline_api.get(f"/events/{event_id}").json()["status"] == "applied"


def test_the_api_still_says_applied_for_the_original(inline_api: InlineApi) -> None:
    accepted = command(inline_api, "POST", "/partners", json=sample_partner(1))
    [original] = inline_api.rows(OutboxEvent)
    forged = other_body(original.body.encode(), names={"en": "Forgery"})

    assert inline_api.apply(forged) == ["dead-lettered"]

    state = inline_api.get(f"/events/{accepted['event_id']}").json()
    assert state == {"event_id": accepted["event_id"], "status": "applied", "reason": None}
    assert inline_api.get(f"/partners/{accepted['id']}").json()["names"]["en"] == "Testville 1"
    [letter] = inline_api.rows(DeadLetter)
    assert_conflict_named(letter.reason, accepted["event_id"])


def test_a_redaction_must_be_declared_for_redeliveries_to_be_known() -> None:
    """A redacted copy differs from its original; only a declared redaction lets the worker
    tell a redelivered original from a conflicting event, so `redact()` takes no other."""

    def undeclared(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "name": "gone"}

    with pytest.raises(ValueError, match="declare the redaction 'undeclared'"):
        asyncio.run(redact(cast(AsyncSession, None), ["c-1"], [ContactRegistered], undeclared))
