"""The CRM projector through the worker's projection path (no Kafka): idempotent, parks early updates."""

from __future__ import annotations

from datetime import timedelta

from conftest import Projection, sample_partner
from twinning.crm.models import PartnerCity
from twinning.streams.events import PartnerCityRegistered, PartnerCityUpdated, new_event
from twinning.streams.store import ArchivedEvent, ParkedEvent


def test_a_redelivered_event_changes_nothing(projection: Projection) -> None:
    registered = new_event(
        PartnerCityRegistered.model_validate(sample_partner()), aggregate_id="p-1", actor="staff"
    )
    updated = new_event(PartnerCityUpdated(region="Kanto"), aggregate_id="p-1", actor="staff")

    assert projection.apply(registered, updated, updated, registered) == [
        "applied",
        "applied",
        "duplicate",
        "duplicate",
    ]
    [partner] = projection.rows(PartnerCity)
    assert (partner.region, partner.version) == ("Kanto", 2)
    assert len(projection.rows(ArchivedEvent)) == 2


def test_an_update_before_its_registration_is_parked_then_applied(projection: Projection) -> None:
    updated = new_event(PartnerCityUpdated(region="Kansai"), aggregate_id="p-2", actor="staff")
    registered = new_event(
        PartnerCityRegistered.model_validate(sample_partner()), aggregate_id="p-2", actor="staff"
    )

    assert projection.apply(updated) == ["parked"]
    assert [p.event_id for p in projection.rows(ParkedEvent)] == [updated.event_id]
    assert projection.apply(registered) == ["applied"]
    [partner] = projection.rows(PartnerCity)
    assert (partner.region, partner.version) == ("Kansai", 2)
    assert projection.rows(ParkedEvent) == []


def test_a_malformed_message_is_dead_lettered_with_its_reason(projection: Projection) -> None:
    assert projection.apply(b"\x00garbage") == ["dead-lettered"]
    [letter] = projection.dead_letters
    assert letter.reason.startswith("not JSON")


def test_a_parked_event_whose_aggregate_never_appears_is_dead_lettered(
    projection: Projection,
) -> None:
    orphan = new_event(
        PartnerCityUpdated(region="Nowhere"), aggregate_id="p-never", actor="other-system"
    )
    assert projection.apply(orphan) == ["parked"]
    assert projection.expire_parked(timedelta(hours=1)) == 0  # still within its time

    assert projection.expire_parked(timedelta(0)) == 1
    [letter] = projection.dead_letters
    assert letter.event_id == orphan.event_id
    assert "p-never" in letter.reason and "did not appear within 0s" in letter.reason
    assert projection.rows(ParkedEvent) == []
