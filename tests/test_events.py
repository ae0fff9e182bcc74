"""Event contracts: what is a valid event, why an invalid one is refused, the published schemas."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import sample_partner
from twinning.streams.events import (
    EVENT_TYPES,
    PARTNERS,
    PRINTABLE_PATTERN,
    SCHEMA_DIR,
    InvalidEvent,
    PartnerCityRegistered,
    PartnerCityUpdated,
    decode,
    json_schemas,
    new_event,
    printable,
)


def envelope(**overrides: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "PartnerCityRegistered",
        "schema_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "aggregate_id": "p-1",
        "actor": "protocol@example.org",
        "payload": sample_partner(),
        **overrides,
    }


def reason_for(document: Any, topic: str | None = PARTNERS) -> str:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(InvalidEvent) as refused:
        decode(raw, topic=topic)
    return refused.value.reason


def test_a_new_event_survives_the_trip_through_bytes() -> None:
    event = new_event(
        PartnerCityRegistered.model_validate(sample_partner()), aggregate_id="p-9", actor="staff"
    )
    again = decode(event.envelope.to_bytes(), topic=PARTNERS)
    assert again == event
    assert again.envelope.occurred_at.tzinfo is not None


def test_an_update_carries_only_the_fields_it_changes() -> None:
    event = new_event(PartnerCityUpdated(region="Kanto"), aggregate_id="p-9", actor="staff")
    assert event.envelope.payload == {"region": "Kanto"}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "invalid envelope: (root)"),
        (envelope(event_id="42"), "invalid envelope: event_id"),
        (envelope(occurred_at="2024-01-01T00:00:00"), "invalid envelope: occurred_at"),
        (envelope(type="VisitTeleported"), "unknown event type 'VisitTeleported'"),
        (envelope(schema_version=7), "unknown schema_version 7 of PartnerCityRegistered"),
        (
            envelope(payload={**sample_partner(), "country": "XX"}),
            "invalid PartnerCityRegistered payload: country",
        ),
        (
            envelope(payload={**sample_partner(), "kind": "enemy"}),
            "invalid PartnerCityRegistered payload: kind",
        ),
        (
            envelope(payload={**sample_partner(), "names": {}}),
            "invalid PartnerCityRegistered payload: names",
        ),
        (
            envelope(payload={**sample_partner(), "names": {"xx-Nope1": "x"}}),
            "invalid PartnerCityRegistered payload: names",
        ),
        (
            envelope(type="PartnerCityUpdated", payload={}),
            "invalid PartnerCityUpdated payload: (root)",
        ),
    ],
)
def test_an_invalid_message_is_refused_with_its_reason(document: Any, expected: str) -> None:
    assert reason_for(document).startswith(expected)


def test_an_event_on_the_wrong_topic_is_refused() -> None:
    assert (
        reason_for(envelope(), topic="twinning.visits")
        == "PartnerCityRegistered belongs on twinning.partners, not on twinning.visits"
    )


def test_the_published_json_schemas_are_current() -> None:
    """Run `twinning schemas` after changing a contract; other producers validate against these."""
    expected = json_schemas()
    on_disk = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in SCHEMA_DIR.glob("*.json")
    }
    assert on_disk == expected
    assert set(expected) == {f"{name}.v{version}.json" for name, version in EVENT_TYPES}


def test_the_published_schema_describes_the_envelope_and_the_payload() -> None:
    schema = json.loads((SCHEMA_DIR / "PartnerCityRegistered.v1.json").read_text(encoding="utf-8"))
    assert set(schema["required"]) >= {
        "event_id",
        "type",
        "schema_version",
        "occurred_at",
        "aggregate_id",
        "actor",
        "payload",
    }
    assert schema["properties"]["type"]["const"] == "PartnerCityRegistered"
    assert schema["x-topic"] == PARTNERS


def test_user_text_refuses_the_control_characters_its_published_schema_refuses() -> None:
    """`printable` (the worker's and the API's rule) and `PRINTABLE_PATTERN` (the published
    schemas' rule) agree on every character below U+0100."""
    refused = set()
    for code in range(0x100):
        text = f"a{chr(code)}b"
        try:
            printable(text)
        except ValueError as exc:
            assert str(exc) == "control characters are not allowed"
            refused.add(code)
        assert (re.fullmatch(PRINTABLE_PATTERN, text) is None) == (code in refused), hex(code)
    assert refused == set(range(0x20)) - {0x09, 0x0A, 0x0D}
