"""The schedule projector: keeps the interpreter roster from its events on `twinning.visits`,
and records the overrides that city events and trips were booked with."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.schedule.models import BookingOverride, Interpreter
from twinning.streams.events import (
    CityEventScheduled,
    CityEventUpdated,
    Event,
    InterpreterContactErased,
    InterpreterRegistered,
    InterpreterUpdated,
    TripPlanned,
    TripUpdated,
)
from twinning.streams.projection import Park, Projector, add, current
from twinning.streams.redaction import redact, redaction_of

projector = Projector("schedule", tables=[BookingOverride, Interpreter])


@projector.on(InterpreterRegistered)
async def interpreter_registered(session: AsyncSession, event: Event) -> None:
    interpreter = await current(session, Interpreter, event.aggregate_id)
    if interpreter is None:
        interpreter = add(
            session,
            Interpreter(
                id=event.aggregate_id,
                contact_erased_at=None,
                registered_at=event.occurred_at,
                updated_at=event.occurred_at,
                version=0,
            ),
        )
    for key, value in event.payload.model_dump(mode="json").items():
        setattr(interpreter, key, value)
    interpreter.version += 1


async def _known(session: AsyncSession, event: Event) -> Interpreter:
    interpreter = await current(session, Interpreter, event.aggregate_id)
    if interpreter is None:
        raise Park(event.aggregate_id, f"interpreter {event.aggregate_id} is not registered yet")
    interpreter.updated_at = max(interpreter.updated_at, event.occurred_at)
    interpreter.version += 1
    return interpreter


@projector.on(InterpreterUpdated)
async def interpreter_updated(session: AsyncSession, event: Event) -> None:
    interpreter = await _known(session, event)
    for key, value in event.payload.to_json().items():
        setattr(interpreter, key, value)


#: The roster's events whose stored copies carry the contact (personal data).
PERSONAL = (InterpreterRegistered, InterpreterUpdated)


@redaction_of(*PERSONAL)
def _erased(payload: dict[str, Any]) -> dict[str, Any]:
    """What a stored roster event keeps: all but the contact, which reads as cleared (null),
    so that an update that changed only the contact still changes something when replayed."""
    return {**payload, "contact": None} if "contact" in payload else payload


@projector.on(InterpreterContactErased)
async def interpreter_contact_erased(session: AsyncSession, event: Event) -> None:
    """Right to erasure: the contact leaves the read model and the stored copies of the
    interpreter's earlier events; the interpreter stays on the roster."""
    interpreter = await _known(session, event)
    interpreter.contact = None
    interpreter.contact_erased_at = event.occurred_at
    await redact(session, [interpreter.id], PERSONAL, _erased)


@projector.on(CityEventScheduled, CityEventUpdated, TripPlanned, TripUpdated)
async def booking_overridden(session: AsyncSession, event: Event) -> None:
    override = getattr(event.payload, "override", None)
    if override is None or await current(session, BookingOverride, event.event_id) is not None:
        return
    kind = "trip" if isinstance(event.payload, TripPlanned | TripUpdated) else "city-event"
    add(
        session,
        BookingOverride(
            event_id=event.event_id,
            kind=kind,
            source_id=event.aggregate_id,
            reason=override.reason,
            conflicts=[c.model_dump(mode="json") for c in override.conflicts],
            actor=event.envelope.actor,
            occurred_at=event.occurred_at,
        ),
    )
