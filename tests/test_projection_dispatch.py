"""A projector's handlers are bound to payload classes, checked when they are bound: a class
that is no registered event type raises at once instead of leaving a handler that never runs."""

from __future__ import annotations

from typing import Any

import pytest
from twinning.streams.events import (
    EVENT_TYPES,
    GeoPoint,
    PartnerCityRegistered,
    PartnerCityUpdated,
    Payload,
    VisitStep,
)
from twinning.streams.projection import Projector
from twinning.streams.registry import PROJECTORS


async def handler(_session: Any, _event: Any) -> None:
    pass


class PartnerCityRenamed(Payload):
    """A payload nobody registered (a typo of an event type, or one not declared yet)."""

    name: str


def test_a_handler_is_bound_to_the_event_types_of_its_payload_classes() -> None:
    projector = Projector("test")
    assert projector.on(PartnerCityRegistered, PartnerCityUpdated)(handler) is handler
    assert projector.handlers == {
        "PartnerCityRegistered": handler,
        "PartnerCityUpdated": handler,
    }


@pytest.mark.parametrize("payload", [PartnerCityRenamed, GeoPoint, VisitStep, Payload])
def test_a_payload_class_that_is_no_registered_event_type_raises_at_once(
    payload: type[Payload],
) -> None:
    projector = Projector("test")
    with pytest.raises(LookupError, match=f"^{payload.__name__} is not a registered event type"):
        projector.on(payload)
    with pytest.raises(LookupError):  # one bad class among good ones binds none of them
        projector.on(PartnerCityRegistered, payload)
    assert projector.handlers == {}


@pytest.mark.parametrize(
    "what",
    [
        "PartnerCityRegistered",  # the old spelling: a name
        PartnerCityRegistered(names={"en": "Sapporo"}, country="JP", kind="sister", timezone="UTC"),
        dict,
        None,
    ],
)
def test_what_is_not_a_payload_class_raises_at_once(what: Any) -> None:
    with pytest.raises(TypeError, match="is not a payload class"):
        Projector("test").on(what)


def test_a_handler_needs_an_event_type() -> None:
    with pytest.raises(TypeError, match="at least one payload class"):
        Projector("test").on()


def test_a_second_handler_for_one_event_type_raises() -> None:
    projector = Projector("test")
    projector.on(PartnerCityRegistered)(handler)
    with pytest.raises(ValueError, match="handles PartnerCityRegistered twice"):
        projector.on(PartnerCityUpdated, PartnerCityRegistered)(handler)
    assert list(projector.handlers) == ["PartnerCityRegistered"]


def test_every_projector_handles_registered_event_types_only() -> None:
    registered = {name for name, _ in EVENT_TYPES}
    for projector in PROJECTORS:
        assert projector.handlers, projector.name
        assert set(projector.handlers) <= registered, projector.name
