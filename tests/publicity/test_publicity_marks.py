"""The marks a transaction leaves: held per document and written once per document, in every
locale (the database makes the document's row in each). A document marked by several events
of one batch is marked as often as one by one, in its every locale, and waits from the time
of the earliest of those events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import Projection
from publicity_support import VALENCIA, event, partner
from twinning.i18n import supported_locales
from twinning.publicity.models import LEAFLET, PublicityDocument, brochure
from twinning.streams.events import Event, PartnerCityUpdated

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(original: Event, when: datetime) -> Event:
    """`original` as if it had happened at `when`."""
    envelope = original.envelope.model_copy(update={"occurred_at": when})
    return Event(envelope=envelope, payload=original.payload, event_type=original.event_type)


@pytest.mark.parametrize("batched", [False, True], ids=["one by one", "one batch"])
def test_a_documents_marks_count_in_every_locale_from_the_earliest(
    projection: Projection, batched: bool
) -> None:
    registered = at(partner(VALENCIA), T0 + timedelta(hours=1))
    city = registered.aggregate_id
    events = [
        registered,
        # Applied after the registration, but it happened before: the pair waits from then.
        at(event(PartnerCityUpdated(names={"en": "València"}), city), T0),
        at(event(PartnerCityUpdated(status="dormant"), city), T0 + timedelta(hours=2)),
        at(event(PartnerCityUpdated(languages=["es"]), city), T0),  # shown nowhere: no mark
    ]
    apply = projection.apply_batch if batched else projection.apply
    assert apply(*events) == ["applied"] * 4

    marks = {
        (row.document, row.locale): (row.generation, row.checked_generation, row.marked_at)
        for row in projection.rows(PublicityDocument)
    }
    assert marks == {
        (document, locale): (3, 0, T0)
        for document in (LEAFLET, brochure(city))
        for locale in supported_locales()
    }

    # Marked again in a later transaction: the marks add up, the pair keeps its place.
    later = at(event(PartnerCityUpdated(status="active"), city), T0 + timedelta(days=1))
    assert projection.apply(later) == ["applied"]
    again = {
        (r.document, r.locale): (r.generation, r.marked_at)
        for r in projection.rows(PublicityDocument)
    }
    assert again == {pair: (4, T0) for pair in marks}
