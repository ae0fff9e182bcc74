"""The publicity projector: which (document, locale) pairs an event affects, marked stale in
the event's own transaction. It renders nothing (that is `twinning.publicity.refresh`, off
the event loop); the marks of a batch cost one statement when it commits, a bound row per
document, which the database writes in every locale.

What each document shows, and so which events touch it:
- the leaflet: partner cities (not ended), every exchange (figures, chart, the latest), the
  upcoming city events open to partners and their venues;
- a partner's brochure: the partner, its exchanges, its completed inbound visits, the
  completed trips that visited it, and the upcoming city events it is invited to;
- both: our city's profile (kept here, `CityProfile`, from `CityProfileSet`); photos (kept
  here, `Photo`): our city's and the exchanges' on the leaflet, a partner's, its exchanges'
  and its visits' on its brochure.
Everything else (contacts, missions, officials, invitations and answers, visit requests and
itineraries, planned trips) is never shown: its events mark nothing. (The plans' progress
reports are marked by the plans projector, which knows which facts their KPIs count.) An update that changes
only facts a document does not show (a partner's languages) marks nothing either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    case,
    delete,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from twinning.crm.models import PartnerCity
from twinning.i18n import supported_locales
from twinning.invitations.models import CityEvent, Invitation
from twinning.publicity import briefing
from twinning.publicity.models import (
    LEAFLET,
    CityProfile,
    Photo,
    PublicityDocument,
    brochure,
)
from twinning.streams.events import (
    CityEventCancelled,
    CityEventCompleted,
    CityEventScheduled,
    CityEventUpdated,
    CityProfileSet,
    Event,
    ExchangeRecorded,
    InvitationSent,
    InvitationWithdrawn,
    InviteeKind,
    ItineraryItemAdded,
    ItineraryItemChanged,
    ItineraryItemRemoved,
    OfficialUpdated,
    PartnerCityRegistered,
    PartnerCityUpdated,
    PhotoAttached,
    PhotoDescribed,
    PhotoRemoved,
    PhotoSubjectKind,
    TripCompleted,
    VenueUpdated,
    VisitApproved,
    VisitCompleted,
    VisitDelegationMembersListed,
    VisitScheduled,
    VisitTalkingPointsWritten,
)
from twinning.streams.projection import (
    KEYS_PER_QUERY,
    Park,
    Projector,
    add,
    current,
    forget,
    held_records,
    hold,
)
from twinning.trips.models import TripLeg
from twinning.visits.models import Visit

#: The partners whose visits this transaction holds, every one of them (see `_prefetch`).
PARTNERS_HELD = "twinning.publicity.partners_held"


async def _prefetch(session: AsyncSession, events: Sequence[Event]) -> None:
    """The visits of the partners a batch updates or records exchanges with, held in one query:
    which of them are being prepared is then known in memory at each event, as the batch has
    left the visits by then, instead of a query (and a flush of everything pending) per event.
    """
    partner_ids: set[str] = set()
    for event in events:
        if isinstance(event.payload, PartnerCityUpdated):
            partner_ids.add(event.aggregate_id)
        elif isinstance(event.payload, ExchangeRecorded):
            partner_ids.update(event.payload.partner_ids)
    covered: set[str] = session.info.setdefault(PARTNERS_HELD, set())
    wanted = sorted(partner_ids - covered)
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        hold(
            session,
            Visit,
            (),
            await session.scalars(select(Visit).where(Visit.partner_id.in_(chunk))),
        )
        covered.update(chunk)


projector = Projector(
    "publicity", tables=[PublicityDocument, CityProfile, Photo], prefetch=_prefetch
)

#: Partner facts that neither the leaflet nor a brochure shows.
NOT_SHOWN = frozenset({"languages"})


MARKED_IN_TRANSACTION = "twinning.publicity.marked"


async def mark_stale(session: AsyncSession, event: Event, documents: Iterable[str]) -> None:
    """Mark `documents` stale in every shipped locale: the renderer takes them from there.
    The marks of a transaction (a batch of events) are written together when it commits."""
    await mark_stale_at(session, event.occurred_at, documents)


async def mark_stale_at(session: AsyncSession, at: datetime, documents: Iterable[str]) -> None:
    """`mark_stale` for a change made at `at` (an event's time, or a version just published).
    Held per document (every locale is marked alike): how many marks, and the first one's time.
    """
    marked: dict[str, tuple[int, datetime]] = session.info.setdefault(MARKED_IN_TRANSACTION, {})
    if not marked:
        sqlalchemy_event.listen(session.sync_session, "before_commit", _write_marks, once=True)
    for document in set(documents):
        held = marked.get(document)
        if held is None:
            marked[document] = (1, at)
        else:
            marked[document] = (held[0] + 1, held[1] if held[1] <= at else at)


def _write_marks(session: Session) -> None:
    """One statement, run for each document marked: a new row per locale never marked, else
    its generation raised by the number of marks (in sorted order, documents and locales:
    two workers never wait on each other's rows crosswise).

    `marked_at` is the pair's place in the renderer's queue (oldest first): the time of the
    (first) mark that made it stale. A pair already waiting keeps its place, whatever else
    marks it: those marks are folded into its one render. A pair that was not waiting, or
    that a renderer holds right now (it reads the generation it checks with its claim, so this
    mark is not in that look), takes the time of this mark: the back of the queue. So a
    document marked again and again is rendered once per pass, and never ahead of one that
    became stale before it."""
    marked: dict[str, tuple[int, datetime]] = session.info.pop(MARKED_IN_TRANSACTION, {})
    if not marked:
        return
    rows = [
        {"document": document, "generation": count, "marked_at": first}
        for document, (count, first) in sorted(marked.items())
    ]
    dialect = session.get_bind().dialect.name
    session.execute(_marks_statement(dialect, supported_locales()), rows)


@cache
def _marks_statement(dialect: str, locales: tuple[str, ...]) -> Any:
    """`INSERT … SELECT :document, locale, … FROM (the locales) ON CONFLICT DO UPDATE`: the
    document's row in every locale from one bound row (its marks, five rows of bound values
    each before). The locales are the catalogs' names, written into the statement."""
    table = cast(Table, PublicityDocument.__table__)
    each_locale = union_all(
        *(select(literal_column(_quoted(locale)).label("locale")) for locale in sorted(locales))
    ).subquery("locales")
    marks = select(
        bindparam("document", type_=table.c.document.type),
        each_locale.c.locale,
        bindparam("generation", type_=table.c.generation.type),
        bindparam("marked_at", type_=table.c.marked_at.type),
        literal_column("0"),
    ).where(true())  # SQLite: an INSERT … SELECT before ON CONFLICT needs a WHERE
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).from_select(
        ["document", "locale", "generation", "marked_at", "checked_generation"], marks
    )
    new = statement.excluded
    requeued = or_(
        PublicityDocument.generation <= PublicityDocument.checked_generation,
        PublicityDocument.claimed_until.is_not(None),
    )
    return statement.on_conflict_do_update(
        index_elements=[PublicityDocument.document, PublicityDocument.locale],
        set_={
            "generation": PublicityDocument.generation + new.generation,
            # Waiting: the earlier of the two (whatever order events are applied in,
            # one at a time or in batches of any size, the place is the same).
            "marked_at": case(
                (requeued, new.marked_at),
                (new.marked_at < PublicityDocument.marked_at, new.marked_at),
                else_=PublicityDocument.marked_at,
            ),
        },
    )


def _quoted(locale: str) -> str:
    """A locale's name as an SQL string literal: letters, digits and hyphens only."""
    if not locale.replace("-", "").isalnum() or not locale.isascii():
        raise ValueError(f"not a locale name: {locale!r}")
    return f"'{locale}'"


@projector.on(PartnerCityRegistered)
async def partner_registered(session: AsyncSession, event: Event) -> None:
    await mark_stale(session, event, [LEAFLET, brochure(event.aggregate_id)])


@projector.on(PartnerCityUpdated)
async def partner_updated(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PartnerCityUpdated)
    if event.payload.model_fields_set - NOT_SHOWN:
        await mark_stale(session, event, [LEAFLET, brochure(event.aggregate_id)])
        await _mark_partners_visits(session, event, [event.aggregate_id])


@projector.on(ExchangeRecorded)
async def exchange_recorded(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, ExchangeRecorded)
    await mark_stale(session, event, [LEAFLET, *map(brochure, event.payload.partner_ids)])
    await _mark_partners_visits(session, event, event.payload.partner_ids)


@projector.on(VisitCompleted)
async def visit_completed(session: AsyncSession, event: Event) -> None:
    # The visits projector, listed before this one, has the visit (or parked the event).
    visit = await session.get(Visit, event.aggregate_id)
    if visit is not None and visit.partner_id is not None:
        await mark_stale(session, event, [brochure(visit.partner_id)])


@projector.on(TripCompleted)
async def trip_completed(session: AsyncSession, event: Event) -> None:
    legs = await session.scalars(
        select(TripLeg.partner_ids).where(TripLeg.trip_id == event.aggregate_id)
    )
    await mark_stale(session, event, [brochure(p) for ids in legs for p in ids])


@projector.on(CityEventScheduled)
async def city_event_scheduled(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, CityEventScheduled)
    if event.payload.open_to_partners:
        await mark_stale(session, event, [LEAFLET])


@projector.on(CityEventUpdated, CityEventCancelled, CityEventCompleted)
async def city_event_changed(session: AsyncSession, event: Event) -> None:
    """An update may open or close the event to partners: either way the leaflet may change.
    A cancellation or completion matters only for an event the leaflet could show; and so
    for the brochures of the partners invited to it."""
    city_event = await session.get(CityEvent, event.aggregate_id)
    updated = isinstance(event.payload, CityEventUpdated)
    if city_event is None or city_event.open_to_partners or updated:
        invited = await _invited_partners(session, event)
        await mark_stale(session, event, [LEAFLET, *map(brochure, invited)])


async def _invited_partners(session: AsyncSession, event: Event) -> list[str]:
    """The partner cities invited to the city event `event` is about (withdrawn or not)."""
    found = await session.scalars(
        select(Invitation.invitee_id).where(
            Invitation.city_event_id == event.aggregate_id,
            Invitation.invitee_kind == InviteeKind.PARTNER.value,
        )
    )
    return sorted(set(found))


@projector.on(InvitationSent)
async def invitation_sent(session: AsyncSession, event: Event) -> None:
    """A brochure lists the upcoming events open to partners that its partner is invited to."""
    assert isinstance(event.payload, InvitationSent)
    if event.payload.invitee_kind is InviteeKind.PARTNER and await _open(session, event):
        await mark_stale(session, event, [brochure(event.payload.invitee_id)])


async def _open(session: AsyncSession, event: Event) -> bool:
    """The city event `event` is about is open to partners (it is public)."""
    city_event = await session.get(CityEvent, event.aggregate_id)
    return city_event is not None and city_event.open_to_partners


@projector.on(InvitationWithdrawn)
async def invitation_withdrawn(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, InvitationWithdrawn)
    # The invitations projector, listed before this one, has the invitation (or parked it).
    invitation = await session.get(Invitation, event.payload.invitation_id)
    if invitation is None or invitation.invitee_kind != InviteeKind.PARTNER.value:
        return
    if await _open(session, event):
        await mark_stale(session, event, [brochure(invitation.invitee_id)])


@projector.on(CityProfileSet)
async def city_profile_set(session: AsyncSession, event: Event) -> None:
    """Our city's profile, replaced whole; the leaflet and every brochure show it."""
    assert isinstance(event.payload, CityProfileSet)
    values = event.payload.model_dump(mode="json")
    profile = await session.get(CityProfile, event.aggregate_id)
    if profile is None:
        profile = CityProfile(id=event.aggregate_id)
        session.add(profile)
    profile.about, profile.figures = values["about"], values["figures"]
    profile.updated_at, profile.updated_by = event.occurred_at, event.envelope.actor
    partners = await session.scalars(select(PartnerCity.id))
    await mark_stale(session, event, [LEAFLET, *map(brochure, partners)])


#: The subjects whose photos the leaflet shows (with a few of the partners').
ON_THE_LEAFLET = frozenset({PhotoSubjectKind.CITY.value, PhotoSubjectKind.EXCHANGE.value})


def _showing(photo: Photo) -> list[str]:
    """The documents that may show `photo`: the leaflet (it picks a few), and the brochures of
    the partners it concerns."""
    return [LEAFLET, *map(brochure, photo.partner_ids)]


@projector.on(PhotoAttached)
async def photo_attached(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PhotoAttached)
    values = event.payload.model_dump(mode="json")
    photo = await current(session, Photo, event.aggregate_id)
    if photo is None:
        photo = add(session, Photo(id=event.aggregate_id))
    photo.subject_kind, photo.subject_id = values["subject_kind"], values["subject_id"]
    photo.partner_ids, photo.file = values["partner_ids"], values["file"]
    photo.caption, photo.alt = values["caption"], values["alt"]
    photo.attached_at, photo.attached_by = event.occurred_at, event.envelope.actor
    await mark_stale(session, event, _showing(photo))


@projector.on(PhotoDescribed)
async def photo_described(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PhotoDescribed)
    photo = await current(session, Photo, event.aggregate_id)
    if photo is None:  # the API refuses a photo it does not know: not applied yet
        raise Park(event.aggregate_id, f"photo {event.aggregate_id} is not attached yet")
    values = event.payload.model_dump(mode="json")
    photo.caption, photo.alt = values["caption"], values["alt"]
    await mark_stale(session, event, _showing(photo))


@projector.on(PhotoRemoved)
async def photo_removed(session: AsyncSession, event: Event) -> None:
    photo = await current(session, Photo, event.aggregate_id)
    if photo is None:
        raise Park(event.aggregate_id, f"photo {event.aggregate_id} is not attached yet")
    await mark_stale(session, event, _showing(photo))
    await session.execute(delete(Photo).where(Photo.id == event.aggregate_id))
    forget(session, Photo, event.aggregate_id)


@projector.on(VenueUpdated)
async def venue_updated(session: AsyncSession, event: Event) -> None:
    """Venue names are shown with the upcoming events held there."""
    used = await session.scalar(
        select(CityEvent.id).where(CityEvent.venue_id == event.aggregate_id).limit(1)
    )
    if used is not None:
        await mark_stale(session, event, [LEAFLET])
    await _mark_visits(session, event, venue_id=event.aggregate_id)


# --- briefing books and delegation programmes (see twinning.publicity.briefing) -------------
# Marked when the visit, its itinerary, its partner (above), or an official or venue its
# itinerary books changes; a change to another visit marks nothing of this one's.

#: Item facts the delegation's programme does not show (the briefing book does).
INTERNAL_ITEM_FACTS = frozenset({"talking_points", "gift_exchange", "notes_shared"})


async def _briefed(session: AsyncSession, visit_id: str) -> bool:
    """The visit as this transaction has it (an earlier event of the batch may have added it)
    is one that has briefing documents."""
    visit = await current(session, Visit, visit_id)
    return visit is not None and visit.status in briefing.BRIEFED


async def _mark_visits(session: AsyncSession, event: Event, **shown: Any) -> None:
    visits = await briefing.visits_preparing(session, **shown)
    await mark_stale(session, event, [d for v in visits for d in briefing.documents_of(v)])


async def _mark_partners_visits(
    session: AsyncSession, event: Event, partner_ids: list[str]
) -> None:
    """`_mark_visits` for partners: in memory when the batch's prefetch holds every visit of
    theirs (those it found, and those added since, which `add()` holds), else by a query."""
    if not set(partner_ids) <= session.info.get(PARTNERS_HELD, set()):
        await _mark_visits(session, event, partner_ids=partner_ids)
        return
    wanted, preparing = set(partner_ids), {status.value for status in briefing.BRIEFED}
    visits = sorted(
        visit.id
        for visit in held_records(session, Visit)
        if visit.partner_id in wanted and visit.status in preparing
    )
    await mark_stale(session, event, [d for v in visits for d in briefing.documents_of(v)])


@projector.on(VisitApproved, VisitScheduled, ItineraryItemAdded, ItineraryItemRemoved)
async def visit_prepared(session: AsyncSession, event: Event) -> None:
    if await _briefed(session, event.aggregate_id):
        await mark_stale(session, event, briefing.documents_of(event.aggregate_id))


@projector.on(ItineraryItemChanged)
async def itinerary_item_changed(session: AsyncSession, event: Event) -> None:
    if not await _briefed(session, event.aggregate_id):
        return
    changed = event.payload.model_fields_set - {"item_id", "override"}
    book, programme = briefing.documents_of(event.aggregate_id)
    await mark_stale(
        session, event, [book] if changed <= INTERNAL_ITEM_FACTS else [book, programme]
    )


@projector.on(VisitTalkingPointsWritten)
async def talking_points_written(session: AsyncSession, event: Event) -> None:
    if await _briefed(session, event.aggregate_id):
        await mark_stale(session, event, [briefing.briefing_book(event.aggregate_id)])


@projector.on(VisitDelegationMembersListed)
async def delegation_members_listed(session: AsyncSession, event: Event) -> None:
    if await _briefed(session, event.aggregate_id):
        await mark_stale(session, event, [briefing.briefing_book(event.aggregate_id)])


@projector.on(OfficialUpdated)
async def official_updated(session: AsyncSession, event: Event) -> None:
    await _mark_visits(session, event, official_id=event.aggregate_id)
