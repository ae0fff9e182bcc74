"""The one schedule's booking check: whether a booking (an itinerary item, a city event, a
trip's legs) collides with any other of the three kinds.

What a booking holds, and when:
- an itinerary item of a visit still booking: its venue, its officials, its interpreters;
- a city event not cancelled: its venue, the officials attending, its interpreters;
- a trip not cancelled: its officials (those of the register), for each leg's span.
Intervals are half-open, so a booking may start the moment another ends; times compare in
UTC, whatever zone each is shown in. An interpreter also needs the travel time between two
different places (`TravelTimes`): a booking that starts before they can get there collides.

Every command that books first calls `settle_schedule`, which settles and holds the three
topics the schedule spans: of two bookings sent at once, the second sees the first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from twinning.invitations.models import (
    CityEvent,
    CityEventAttendance,
    CityEventInterpreter,
    CityEventStatus,
)
from twinning.refusals import Conflict, ConflictingItem, InvalidField
from twinning.schedule.models import Interpreter
from twinning.streams import outbox
from twinning.streams.events import (
    EXCHANGES,
    INVITATIONS,
    VISITS,
    BookedKind,
    BookingConflict,
    ConflictOverride,
)
from twinning.trips.models import Trip, TripLeg
from twinning.visits.lifecycle import BOOKING
from twinning.visits.models import (
    ItineraryAttendance,
    ItineraryInterpreter,
    ItineraryItem,
    Visit,
)

#: The topics whose events change what the schedule holds.
SCHEDULE_TOPICS = (VISITS, INVITATIONS, EXCHANGES)


async def settle_schedule(db_session: AsyncSession, aggregate_ids: Iterable[str] = ()) -> None:
    """Settle and hold the whole schedule (and the booking's own aggregates) before a check."""
    await outbox.settle(db_session, topics=SCHEDULE_TOPICS, aggregate_ids=aggregate_ids)


@dataclass(frozen=True)
class TravelTimes:
    """How long an interpreter needs between two places: `between` a pair of venues (either
    order), else `default_minutes`; none within one venue."""

    default_minutes: int = 30
    between: Mapping[frozenset[str], int] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Any) -> TravelTimes:
        return cls(
            default_minutes=settings.interpreter_travel_minutes,
            between={
                frozenset(pair.split("/", 1)): minutes
                for pair, minutes in settings.venue_travel_minutes.items()
            },
        )

    def minutes(self, here: str | None, there: str | None) -> int:
        if here is not None and here == there:
            return 0
        if here is not None and there is not None:
            return self.between.get(frozenset({here, there}), self.default_minutes)
        return self.default_minutes

    @property
    def longest(self) -> timedelta:
        return timedelta(minutes=max([self.default_minutes, *self.between.values()]))


def place_key(venue_id: str | None, place: Any = None) -> str | None:
    """Where a booking is, for travel times: its venue's id, or its outside place."""
    if venue_id is not None:
        return venue_id
    if place is None:
        return None
    if isinstance(place, dict):
        place = place.get("names") or place
    return "place:" + json.dumps(place, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Booking:
    """What a command would book; `itself` (its kind and id) is left out of the check."""

    starts_at: datetime
    ends_at: datetime
    venue_id: str | None = None
    place: str | None = None
    official_ids: Sequence[str] = ()
    interpreter_ids: Sequence[str] = ()
    itself: tuple[BookedKind, str] | None = None

    def excludes(self, kind: BookedKind, source_id: str) -> bool:
        return self.itself == (kind, source_id)


@dataclass
class _Found:
    conflict: BookingConflict
    title: dict[str, str] | None


async def find_conflicts(
    *, db_session: AsyncSession, booking: Booking, travel: TravelTimes | None = None
) -> list[BookingConflict]:
    """Every booking of the other kinds (and of this kind, but itself) that collides."""
    return [found.conflict for found in await _find(db_session, booking, travel or TravelTimes())]


async def _find(db_session: AsyncSession, booking: Booking, travel: TravelTimes) -> list[_Found]:
    found = [
        *await _items(db_session, booking, travel),
        *await _city_events(db_session, booking, travel),
        *await _trips(db_session, booking),
    ]

    def order(f: _Found) -> tuple[Any, ...]:
        c = f.conflict
        ids = (c.item_id, c.city_event_id, c.trip_id, c.leg, c.venue_id, c.official_id)
        return (c.starts_at, c.kind.value, *(str(i or "") for i in ids), c.interpreter_id or "")

    return sorted(found, key=order)


def _interpreter_conflict(
    booking: Booking,
    travel: TravelTimes,
    starts_at: datetime,
    ends_at: datetime,
    where: str | None,
) -> tuple[bool, int | None]:
    """Whether an interpreter booked [starts_at, ends_at) at `where` cannot also take this
    booking; and the travel time missing, when that is why."""
    if starts_at < booking.ends_at and ends_at > booking.starts_at:
        return True, None
    gap = (
        starts_at - booking.ends_at if starts_at >= booking.ends_at else booking.starts_at - ends_at
    )
    needed = travel.minutes(booking.place, where)
    if gap < timedelta(minutes=needed):
        return True, needed
    return False, None


async def _items(db_session: AsyncSession, booking: Booking, travel: TravelTimes) -> list[_Found]:
    live = (
        select(ItineraryItem)
        .join(Visit, Visit.id == ItineraryItem.visit_id)
        .where(
            ItineraryItem.removed.is_(False),
            Visit.status.in_([status.value for status in BOOKING]),
        )
    )
    if booking.itself is not None and booking.itself[0] is BookedKind.ITINERARY_ITEM:
        live = live.where(ItineraryItem.id != booking.itself[1])

    def conflict(item: ItineraryItem, **booked: Any) -> _Found:
        return _Found(
            BookingConflict(
                kind=BookedKind.ITINERARY_ITEM,
                visit_id=item.visit_id,
                item_id=item.id,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                **booked,
            ),
            dict(item.titles),
        )

    return await _booked(
        db_session,
        booking,
        travel,
        live=live,
        model=ItineraryItem,
        conflict=conflict,
        attendance=(ItineraryAttendance.official_id, ItineraryAttendance.item_id),
        interpreters=(ItineraryInterpreter.interpreter_id, ItineraryInterpreter.item_id),
        place=lambda item: place_key(item.venue_id, item.place),
    )


async def _city_events(
    db_session: AsyncSession, booking: Booking, travel: TravelTimes
) -> list[_Found]:
    live = select(CityEvent).where(CityEvent.status != CityEventStatus.CANCELLED.value)
    if booking.itself is not None and booking.itself[0] is BookedKind.CITY_EVENT:
        live = live.where(CityEvent.id != booking.itself[1])

    def conflict(city_event: CityEvent, **booked: Any) -> _Found:
        return _Found(
            BookingConflict(
                kind=BookedKind.CITY_EVENT,
                city_event_id=city_event.id,
                starts_at=city_event.starts_at,
                ends_at=city_event.ends_at,
                **booked,
            ),
            dict(city_event.title),
        )

    return await _booked(
        db_session,
        booking,
        travel,
        live=live,
        model=CityEvent,
        conflict=conflict,
        attendance=(CityEventAttendance.official_id, CityEventAttendance.city_event_id),
        interpreters=(CityEventInterpreter.interpreter_id, CityEventInterpreter.city_event_id),
        place=lambda event: place_key(event.venue_id, event.venue_place),
    )


async def _booked(
    db_session: AsyncSession,
    booking: Booking,
    travel: TravelTimes,
    *,
    live: Select[Any],
    model: Any,
    conflict: Callable[..., _Found],
    attendance: tuple[InstrumentedAttribute[str], InstrumentedAttribute[str]],
    interpreters: tuple[InstrumentedAttribute[str], InstrumentedAttribute[str]],
    place: Callable[[Any], str | None],
) -> list[_Found]:
    """What of one kind (`model`: itinerary items or city events, `live` the ones that still
    book) shares the booking's venue, officials or interpreters in its time; an interpreter
    also when the travel time between the two places is missing. `attendance` and
    `interpreters` are each (the person's column, the column naming the booked record)."""
    overlapping = live.where(model.starts_at < booking.ends_at, model.ends_at > booking.starts_at)
    found: list[_Found] = []
    if booking.venue_id is not None:
        query = overlapping.where(model.venue_id == booking.venue_id)
        found += [conflict(r, venue_id=booking.venue_id) for r in await db_session.scalars(query)]
    if booking.official_ids:
        official, booked = attendance
        rows = await db_session.execute(
            overlapping.add_columns(official)
            .join(official.class_, booked == model.id)
            .where(official.in_(sorted(set(booking.official_ids))))
        )
        found += [conflict(record, official_id=person) for record, person in rows]
    if booking.interpreter_ids:
        interpreter, booked = interpreters
        near = live.where(
            model.starts_at < booking.ends_at + travel.longest,
            model.ends_at > booking.starts_at - travel.longest,
        )
        rows = await db_session.execute(
            near.add_columns(interpreter)
            .join(interpreter.class_, booked == model.id)
            .where(interpreter.in_(sorted(set(booking.interpreter_ids))))
        )
        for record, person in rows:
            clash, minutes = _interpreter_conflict(
                booking, travel, record.starts_at, record.ends_at, place(record)
            )
            if clash:
                found.append(conflict(record, interpreter_id=person, travel_minutes=minutes))
    return found


async def _trips(db_session: AsyncSession, booking: Booking) -> list[_Found]:
    if not booking.official_ids:
        return []
    wanted = set(booking.official_ids)
    query = (
        select(TripLeg, Trip)
        .join(Trip, Trip.id == TripLeg.trip_id)
        .where(
            Trip.status != "cancelled",
            TripLeg.starts_at < booking.ends_at,
            TripLeg.ends_at > booking.starts_at,
        )
        .order_by(TripLeg.starts_at, TripLeg.trip_id, TripLeg.position)
    )
    if booking.itself is not None and booking.itself[0] is BookedKind.TRIP:
        query = query.where(Trip.id != booking.itself[1])
    found: list[_Found] = []
    for leg, trip in await db_session.execute(query):
        travelling = {o.get("official_id") for o in trip.officials} & wanted
        found += [
            _Found(
                BookingConflict(
                    kind=BookedKind.TRIP,
                    trip_id=trip.id,
                    leg=leg.position,
                    official_id=official,
                    starts_at=leg.starts_at,
                    ends_at=leg.ends_at,
                ),
                dict(trip.title),
            )
            for official in sorted(o for o in travelling if o is not None)
        ]
    return found


def href(conflict: BookingConflict) -> str:
    """Where the conflicting booking is read in the API."""
    if conflict.kind is BookedKind.CITY_EVENT:
        return f"/city-events/{conflict.city_event_id}"
    if conflict.kind is BookedKind.TRIP:
        return f"/trips/{conflict.trip_id}"
    return f"/visits/{conflict.visit_id}/itinerary/{conflict.item_id}"


def _source_id(conflict: BookingConflict) -> str:
    source = conflict.item_id or conflict.city_event_id or conflict.trip_id
    assert source is not None
    return source


async def check_booking(
    *,
    db_session: AsyncSession,
    booking: Booking | Sequence[Booking],
    override_reason: str | None,
    travel: TravelTimes | None = None,
) -> ConflictOverride | None:
    """Refuse a booking (or the bookings of one command: a trip's legs) that collides: 409
    listing each conflict with its kind, a link and its title; unless the command gives a
    reason to override, then what its event records of that (None when nothing collides)."""
    bookings = [booking] if isinstance(booking, Booking) else list(booking)
    found: list[_Found] = []
    for each in bookings:
        await check_interpreters(db_session, each.interpreter_ids)
        found += [
            f
            for f in await _find(db_session, each, travel or TravelTimes())
            if all(f.conflict != seen.conflict for seen in found)
        ]
    if not found:
        return None
    if override_reason is None:
        raise Conflict(
            "conflicting bookings: %(count)s; send an override with a reason to book anyway",
            conflicts=[
                ConflictingItem(
                    kind=f.conflict.kind.value,
                    id=_source_id(f.conflict),
                    href=href(f.conflict),
                    title=f.title,
                    **f.conflict.model_dump(mode="json", exclude={"kind"}),
                )
                for f in found
            ],
            count=len(found),
        )
    return ConflictOverride(reason=override_reason, conflicts=[f.conflict for f in found])


async def check_interpreters(db_session: AsyncSession, interpreter_ids: Iterable[str]) -> None:
    named = set(interpreter_ids)
    if not named:
        return
    known = set(await db_session.scalars(select(Interpreter.id).where(Interpreter.id.in_(named))))
    if named - known:
        raise InvalidField(
            "interpreter_ids", "unknown interpreters %(ids)s", ids=sorted(named - known)
        )
