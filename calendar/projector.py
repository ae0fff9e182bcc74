"""The calendar projector: keeps calendar entries from itinerary items, city events, trips
abroad and partner agreements, for the feeds of the office, each official and each partner.

It runs after the domain projectors, in the same transaction, so it derives each entry from
their read models as the event left them. Every source (an itinerary item, a city event, a
trip, a partner's agreement, an exchange) has a deriver that says which entries it should have
now; `_sync` brings the stored entries there:
- a changed entry gets a new `revision` (its VEVENT is rendered again) and `changed_at` (the
  event's time: DTSTAMP and LAST-MODIFIED); a change of time, place, status or attendees also
  raises its SEQUENCE;
- an entry that its source no longer has is kept as cancelled, and an audience that no longer
  sees an entry keeps it with `removed_at` (its feed shows it cancelled for a while);
- every audience whose feed changed gets its `FeedVersion` raised, for the API's cache.
Renaming an official, a venue or a partner city refreshes the entries that name it.

The entries are plain records (`Entry`), not ORM objects: a transaction loads those its events
touch in a query per table (`_load_entries`), keeps them in step in memory, and writes the
changed ones when it commits, in a statement per table (`_write_before_commit`: an upsert of
the entries, one of their audiences, and the references added and dropped). An entry costs no
unit-of-work bookkeeping, and a batch of a thousand items a handful of statements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from twinning.calendar.models import (
    CalendarAudience,
    CalendarEntry,
    CalendarReference,
    EntryStatus,
    FeedVersion,
)
from twinning.crm.models import Exchange, ForeignMission, PartnerCity
from twinning.db import insert_or_update
from twinning.invitations.models import CityEvent, CityEventStatus, Invitation, InvitationStatus
from twinning.streams.events import (
    INVITATIONS,
    CityEventCancelled,
    CityEventCompleted,
    CityEventScheduled,
    CityEventUpdated,
    Event,
    ExchangeRecorded,
    ForeignMissionRegistered,
    ForeignMissionUpdated,
    InvitationSent,
    InvitationWithdrawn,
    InviteeKind,
    ItineraryItemAdded,
    ItineraryItemChanged,
    ItineraryItemRemoved,
    OfficialRegistered,
    OfficialUpdated,
    PartnerCityRegistered,
    PartnerCityUpdated,
    PartnerStatus,
    Payload,
    TripCancelled,
    TripCompleted,
    TripPlanned,
    TripUpdated,
    Update,
    VenueRegistered,
    VenueUpdated,
)
from twinning.streams.projection import (
    KEYS_PER_QUERY,
    Projector,
    current,
    load_and_hold,
)
from twinning.trips.models import Trip, TripLeg
from twinning.trips.schemas import TripStatus
from twinning.visits.lifecycle import STEPS, VisitStatus
from twinning.visits.models import ItineraryItem, Official, Venue, Visit


async def _prefetch(session: AsyncSession, events: Sequence[Event]) -> None:
    """Load a batch's entries (of its itinerary items and city events) and the officials and
    venues its items name in a few queries, and remember which do not exist yet, so that the
    handlers find everything in the session instead of querying (and flushing) per event."""
    uids, item_ids, partner_refs, partners = set(), set(), set(), set()
    official_ids: set[str] = set()
    venue_ids: set[str] = set()
    for event in events:
        if isinstance(event.payload, PartnerCityRegistered | PartnerCityUpdated):
            partners.add(event.aggregate_id)
            partner_refs.add(f"partner:{event.aggregate_id}")
        elif item_id := getattr(event.payload, "item_id", None):
            uids.add(entry_uid("itinerary", item_id))
            item_ids.add(item_id)
            official_ids |= set(getattr(event.payload, "official_ids", None) or ())
            if venue_id := getattr(event.payload, "venue_id", None):
                venue_ids.add(venue_id)
        elif event.event_type.topic == INVITATIONS:
            uids.add(entry_uid("city-event", event.aggregate_id))
    if uids:
        await _load_entries(session, uids)
    if item_ids:  # held by the visits projector's prefetch: those stored already
        items = [
            item for i in sorted(item_ids) if (item := await current(session, ItineraryItem, i))
        ]
        await _hold_named_by(session, items, official_ids, venue_ids)
    if partners:  # their anniversaries, and the entries that name them (a rename refreshes)
        await _load_sources(session, "anniversary", partners)
        await _look_up_referencing(session, partner_refs)


projector = Projector(
    "calendar", tables=[CalendarAudience, CalendarReference, CalendarEntry], prefetch=_prefetch
)

OFFICE = "office"
#: Anniversaries kept per partnership: every fifth year up to the hundredth (the feeds show
#: those in their window).
ANNIVERSARY_YEARS = range(5, 101, 5)


def official_audience(official_id: str) -> str:
    return f"official:{official_id}"


def partner_audience(partner_id: str) -> str:
    return f"partner:{partner_id}"


def interpreter_audience(interpreter_id: str) -> str:
    return f"interpreter:{interpreter_id}"


@dataclass
class Planned:
    """An entry as its source says it should be now."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    timezone: str | None
    status: EntryStatus
    facts: dict[str, Any]
    audiences: set[str]
    refs: set[str] = field(default_factory=set)


Deriver = Callable[[AsyncSession, str], Awaitable[list[Planned]]]
DERIVERS: dict[str, Deriver] = {}
#: The UID of the one entry of a source of these kinds, from the source's id.
SINGLE_UIDS: dict[str, str] = {}


def deriver(kind: str, *, single_uid: str | None = None) -> Callable[[Deriver], Deriver]:
    """Register what entries a source of `kind` should have; `single_uid` (a format with `{}`
    for the source's id) for kinds with exactly one entry per source."""

    def register(function: Deriver) -> Deriver:
        DERIVERS[kind] = function
        if single_uid is not None:
            SINGLE_UIDS[kind] = single_uid
        return function

    return register


def entry_uid(kind: str, source_id: str) -> str:
    return SINGLE_UIDS[kind].format(source_id)


# --- keeping entries in step with their source ------------------------------------------


async def refresh(session: AsyncSession, kind: str, source_id: str, event: Event) -> None:
    """Bring the entries of one source to what its deriver says now."""
    planned = await DERIVERS[kind](session, source_id)
    _write_at_commit(session)  # what changes below
    existing = {entry.uid: entry for entry in await _entries_of(session, kind, source_id)}
    touched: set[str] = set()
    known = session.info.setdefault(ENTRIES_OF, {}).get((kind, source_id))
    referencing = session.info.setdefault(REFERENCING, {})
    for plan in planned:
        entry = existing.pop(plan.uid, None)
        if entry is None:
            entry = _new_entry(plan, kind=kind, source_id=source_id, event=event)
            _entries(session)[entry.uid] = entry
            if known is not None:
                known.append(entry)
            touched |= _sync(entry, plan, event, new=True)
        else:
            touched |= _sync(entry, plan, event)
        for ref in plan.refs & referencing.keys():
            referencing[ref].add((kind, source_id))
    for entry in existing.values():  # gone from its source: kept as cancelled
        touched |= _sync(entry, _cancelled(entry), event)
    bump_versions(session, touched)


#: Per transaction: the entries of multi-entry sources, (kind, source id) -> entries, and the
#: sources whose entries name a reference, ref -> {(kind, source id)}; looked up once (by the
#: batch's prefetch, or on first use), then kept in step by `refresh`, so that a batch does not
#: query (and flush) for them event after event. A source that stopped naming a reference may
#: stay listed: refreshing it once more changes nothing.
ENTRIES_OF = "twinning.calendar.entries-of"
REFERENCING = "twinning.calendar.referencing"


async def _entries_of(session: AsyncSession, kind: str, source_id: str) -> list[Entry]:
    """The entries of a source as this transaction has them: loaded by the batch's prefetch
    (or an earlier event), else from the database; no flush either way."""
    if kind in SINGLE_UIDS:
        uid = entry_uid(kind, source_id)
        await _load_entries(session, [uid])
        entry = _entries(session)[uid]
        return [entry] if entry is not None else []
    known = session.info.setdefault(ENTRIES_OF, {})
    if (kind, source_id) not in known:
        await _load_sources(session, kind, [source_id])
    return list(known[kind, source_id])


# --- the entries as a transaction has them ----------------------------------------------


@dataclass(eq=False, slots=True)
class Entry:
    """A calendar entry (a `CalendarEntry` row with its audiences and references) as this
    transaction has it, and as it was stored (`stored_*`, None for an entry not stored yet)."""

    uid: str
    kind: str
    source_id: str
    starts_at: datetime
    ends_at: datetime
    timezone: str | None
    status: str
    cancelled_at: datetime | None
    sequence: int
    revision: int
    created_at: datetime
    changed_at: datetime
    facts: dict[str, Any]
    #: Audience -> when the entry left its feed (None: it is in the feed).
    audiences: dict[str, datetime | None] = field(default_factory=dict)
    refs: set[str] = field(default_factory=set)
    stored_audiences: dict[str, datetime | None] = field(default_factory=dict)
    stored_refs: set[str] = field(default_factory=set)
    #: The entry's own row changed (or is new) since it was loaded.
    changed: bool = False

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ENTRY_COLUMNS}


#: The columns of `calendar_entries`, as `Entry` names them.
ENTRY_COLUMNS = tuple(column.key for column in CalendarEntry.__table__.columns)
#: session.info: uid -> the entry as this transaction has it, or None (not stored, not created).
ENTRIES_HELD = "twinning.calendar.entries"


def _entries(session: AsyncSession | Session) -> dict[str, Entry | None]:
    held: dict[str, Entry | None] = session.info.setdefault(ENTRIES_HELD, {})
    return held


async def _load_entries(session: AsyncSession, uids: Iterable[str]) -> None:
    """Load the entries with these uids that this transaction does not have yet (a query per
    table and per thousand entries), noting those that do not exist."""
    held = _entries(session)
    wanted = sorted({uid for uid in uids if uid not in held})
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        await _load(session, CalendarEntry.uid.in_(chunk))
        for uid in chunk:
            held.setdefault(uid, None)


async def _load_sources(session: AsyncSession, kind: str, source_ids: Iterable[str]) -> None:
    """Load the entries of these sources of a multi-entry kind, and note them as the sources'
    entries (`ENTRIES_OF`) with those this transaction created for them."""
    known = session.info.setdefault(ENTRIES_OF, {})
    wanted = sorted({source_id for source_id in source_ids if (kind, source_id) not in known})
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        await _load(session, and_(CalendarEntry.kind == kind, CalendarEntry.source_id.in_(chunk)))
    lists: dict[str, list[Entry]] = {source_id: [] for source_id in wanted}
    for entry in _entries(session).values():
        if entry is not None and entry.kind == kind and entry.source_id in lists:
            lists[entry.source_id].append(entry)
    for source_id, entries in lists.items():
        known[kind, source_id] = sorted(entries, key=lambda entry: entry.uid)


#: Some entries' audiences and references, and the entries that reference some ids: made once
#: (building a statement and its cache key costs some 70 µs of CPU; an expanding parameter
#: takes the keys).
_AUDIENCES_OF = select(
    CalendarAudience.entry_uid, CalendarAudience.audience, CalendarAudience.removed_at
).where(CalendarAudience.entry_uid.in_(bindparam("uids", expanding=True)))
_REFERENCES_OF = select(CalendarReference.entry_uid, CalendarReference.ref).where(
    CalendarReference.entry_uid.in_(bindparam("uids", expanding=True))
)
_REFERENCING = (
    select(CalendarReference.ref, CalendarEntry.kind, CalendarEntry.source_id)
    .join(CalendarEntry, CalendarReference.entry_uid == CalendarEntry.uid)
    .where(CalendarReference.ref.in_(bindparam("refs", expanding=True)))
    .distinct()
)


async def _load(session: AsyncSession, where: Any) -> None:
    """Load the stored entries `where` selects, with their audiences and references; an entry
    this transaction has already stays as it has it."""
    held = _entries(session)
    found: dict[str, Entry] = {}
    for row in (await session.execute(select(CalendarEntry.__table__).where(where))).mappings():
        if row["uid"] not in held:
            found[row["uid"]] = Entry(**row)
    if not found:
        return
    uids = sorted(found)
    for start in range(0, len(uids), KEYS_PER_QUERY):
        chunk = {"uids": uids[start : start + KEYS_PER_QUERY]}
        for uid, audience, removed_at in await session.execute(_AUDIENCES_OF, chunk):
            found[uid].audiences[audience] = removed_at
        for uid, ref in await session.execute(_REFERENCES_OF, chunk):
            found[uid].refs.add(ref)
    for entry in found.values():
        entry.stored_audiences, entry.stored_refs = dict(entry.audiences), set(entry.refs)
        held[entry.uid] = entry


WRITE_AT_COMMIT = "twinning.calendar.write-at-commit"


def _write_at_commit(session: AsyncSession) -> None:
    """Have the entries this transaction changed written when it commits."""
    if not session.info.get(WRITE_AT_COMMIT):
        session.info[WRITE_AT_COMMIT] = True
        sqlalchemy_event.listen(
            session.sync_session, "before_commit", _write_before_commit, once=True
        )


def _write_before_commit(session: Session) -> None:
    """Write the entries the transaction changed: a statement per table, the rows in sorted
    order (two workers never wait on each other's rows in opposite orders)."""
    session.info.pop(WRITE_AT_COMMIT, None)
    entries = sorted(
        (entry for entry in _entries(session).values() if entry is not None),
        key=lambda entry: entry.uid,
    )
    rows = [entry.row() for entry in entries if entry.changed]
    if rows:
        statement = insert_or_update(session, CalendarEntry)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[CalendarEntry.uid],
                set_={name: statement.excluded[name] for name in ENTRY_COLUMNS if name != "uid"},
            ),
            rows,
        )
    audiences = [
        {"entry_uid": entry.uid, "audience": audience, "removed_at": removed_at}
        for entry in entries
        if entry.audiences != entry.stored_audiences
        for audience, removed_at in sorted(entry.audiences.items())
        if entry.stored_audiences.get(audience, ...) != removed_at
    ]
    if audiences:
        statement = insert_or_update(session, CalendarAudience)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[CalendarAudience.entry_uid, CalendarAudience.audience],
                set_={"removed_at": statement.excluded.removed_at},
            ),
            audiences,
        )
    dropped = [
        {"uid": entry.uid, "dropped": ref}
        for entry in entries
        for ref in sorted(entry.stored_refs - entry.refs)
    ]
    if dropped:
        references = cast(Table, CalendarReference.__table__)
        session.execute(
            delete(references).where(
                references.c.entry_uid == bindparam("uid"),
                references.c.ref == bindparam("dropped"),
            ),
            dropped,
        )
    added = [
        {"entry_uid": entry.uid, "ref": ref}
        for entry in entries
        for ref in sorted(entry.refs - entry.stored_refs)
    ]
    if added:
        session.execute(insert(cast(Table, CalendarReference.__table__)), added)
    for entry in entries:  # stored now, should the session go on
        entry.stored_audiences, entry.stored_refs = dict(entry.audiences), set(entry.refs)
        entry.changed = False


def _new_entry(plan: Planned, *, kind: str, source_id: str, event: Event) -> Entry:
    return Entry(
        uid=plan.uid,
        kind=kind,
        source_id=source_id,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        timezone=plan.timezone,
        status=plan.status.value,
        cancelled_at=event.occurred_at if plan.status is EntryStatus.CANCELLED else None,
        sequence=0,
        revision=0,
        created_at=event.occurred_at,
        changed_at=event.occurred_at,
        facts=plan.facts,
        changed=True,
    )


def _cancelled(entry: Entry) -> Planned:
    return Planned(
        uid=entry.uid,
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        timezone=entry.timezone,
        status=EntryStatus.CANCELLED,
        facts=entry.facts,
        audiences={a for a, removed_at in entry.audiences.items() if removed_at is None},
        refs=set(entry.refs),
    )


def _significant(entry: Entry) -> tuple[Any, ...]:
    """What a change of raises SEQUENCE: time, place, status and who attends."""
    active = sorted(a for a, removed_at in entry.audiences.items() if removed_at is None)
    place = entry.facts.get("location")
    return (entry.starts_at, entry.ends_at, entry.timezone, entry.status, place, active)


def _shown(entry: Entry) -> tuple[Any, ...]:
    removed = sorted((a, removed_at is None) for a, removed_at in entry.audiences.items())
    return (_significant(entry), entry.facts, removed)


def _sync(entry: Entry, plan: Planned, event: Event, *, new: bool = False) -> set[str]:
    """Apply `plan` to `entry`; the audiences whose feeds change (none if nothing did)."""
    significant, shown = _significant(entry), _shown(entry)
    before = set(entry.audiences)
    entry.starts_at, entry.ends_at, entry.timezone = plan.starts_at, plan.ends_at, plan.timezone
    if plan.facts != entry.facts:
        entry.facts = plan.facts
    if entry.status != plan.status.value:
        cancelled = plan.status is EntryStatus.CANCELLED
        entry.cancelled_at = event.occurred_at if cancelled else None
        entry.status = plan.status.value
    _sync_audiences(entry, plan.audiences, event.occurred_at)
    entry.refs = set(plan.refs)
    if not new and _shown(entry) == shown:
        return set()
    if not new and _significant(entry) != significant:
        entry.sequence += 1
    entry.revision += 1
    entry.changed_at = max(entry.changed_at, event.occurred_at)
    entry.changed = True
    return before | plan.audiences


def _sync_audiences(entry: Entry, audiences: set[str], when: datetime) -> None:
    for audience in audiences:
        entry.audiences[audience] = None  # (back) in its feed
    for audience, removed_at in entry.audiences.items():
        if audience not in audiences and removed_at is None:
            entry.audiences[audience] = when


BUMPED_IN_TRANSACTION = "twinning.calendar.bumped"


def bump_versions(session: AsyncSession, audiences: Iterable[str]) -> None:
    """Raise the feed version of these audiences when the transaction commits: once per
    transaction (a batch of events), not once per event."""
    keys = set(audiences)
    if not keys:
        return
    bumped = session.info.setdefault(BUMPED_IN_TRANSACTION, set())
    if not bumped:
        sqlalchemy_event.listen(
            session.sync_session, "before_commit", _bump_before_commit, once=True
        )
    bumped |= keys


def _bump_before_commit(session: Session) -> None:
    """One statement, the rows in sorted order (two workers never wait on each other's rows in
    opposite orders); on PostgreSQL, a notification too (`NOTIFY_FEEDS`)."""
    keys = sorted(session.info.pop(BUMPED_IN_TRANSACTION, ()))
    if not keys:
        return
    statement = insert_or_update(session, FeedVersion)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[FeedVersion.audience], set_={"version": FeedVersion.version + 1}
        ),
        [{"audience": key, "version": 1} for key in keys],
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(NOTIFY_FEEDS)


#: The PostgreSQL channel on which a commit that changes what a feed serves is announced
#: (a feed version raised, a link revoked or rotated), so that the API processes look again
#: at once (`calendar.feeds.NotifiedStamp`). SQLite needs none: its own change counter says
#: so (`calendar.feeds.CommitStamp`).
FEEDS_CHANNEL = "twinning_feeds"
#: Delivered by PostgreSQL when the transaction commits, not before (and not at all if it
#: rolls back).
NOTIFY_FEEDS = select(func.pg_notify(FEEDS_CHANNEL, ""))


async def refresh_referencing(
    session: AsyncSession, ref: str, event: Event, *, done: tuple[str, str] | None = None
) -> None:
    """Refresh every source whose entries show `ref` (a renamed official, venue or partner),
    but `done`, the (kind, source) already refreshed."""
    referencing = session.info.setdefault(REFERENCING, {})
    if ref not in referencing:
        await _look_up_referencing(session, [ref])
    sources = sorted(source for source in referencing[ref] if source != done)
    await _load_itinerary(
        session, [source_id for kind, source_id in sources if kind == "itinerary"]
    )
    for kind, source_id in sources:
        await refresh(session, kind, source_id, event)


async def _load_itinerary(session: AsyncSession, item_ids: Sequence[str]) -> None:
    """Hold what refreshing these items' entries reads, in a query per kind of record: a venue
    or an official registered after thousands of items named it (or renamed) refreshes them
    all, and a query per item for each of them would make that one event take seconds."""
    if len(item_ids) < 2:
        return
    await _load_entries(session, [entry_uid("itinerary", i) for i in item_ids])
    await load_and_hold(session, ItineraryItem, item_ids)
    items = [item for i in item_ids if (item := await current(session, ItineraryItem, i))]
    await load_and_hold(session, Visit, {item.visit_id for item in items})
    await _hold_named_by(session, items)


async def _hold_named_by(
    session: AsyncSession,
    items: Iterable[ItineraryItem],
    officials: Iterable[str] = (),
    venues: Iterable[str] = (),
) -> None:
    """Hold the officials and venues that these items (and the ids given) name, those not
    registered (yet) noted absent, so that no item asks the database for them again."""
    officials, venues = set(officials), set(venues)
    for item in items:
        officials.update(item.official_ids)
        if item.venue_id is not None:
            venues.add(item.venue_id)
    if officials:
        await load_and_hold(session, Official, officials)
    if venues:
        await load_and_hold(session, Venue, venues)


async def _look_up_referencing(session: AsyncSession, refs: Iterable[str]) -> None:
    wanted = set(refs)
    rows = await session.execute(_REFERENCING, {"refs": sorted(wanted)})
    referencing = session.info.setdefault(REFERENCING, {})
    for ref in wanted:
        referencing.setdefault(ref, set())
    for ref, kind, source_id in rows:
        referencing[ref].add((kind, source_id))
    for entry in _entries(session).values():  # those not written yet, as this transaction has them
        if entry is not None:
            for ref in entry.refs & wanted:
                referencing[ref].add((entry.kind, entry.source_id))


# --- derivers: what entries each source should have -------------------------------------


def _place(names: dict[str, str], address: dict[str, str] | None) -> dict[str, Any]:
    return {"names": names, "address": address}


async def _partner_names(session: AsyncSession, partner_id: str) -> dict[str, str] | None:
    partner = await current(session, PartnerCity, partner_id)
    return dict(partner.names) if partner is not None else None


async def _delegation(session: AsyncSession, visit: Visit) -> dict[str, str] | None:
    if visit.partner_id is not None:
        return await _partner_names(session, visit.partner_id)
    if visit.mission_id is not None:
        mission = await current(session, ForeignMission, visit.mission_id)
        return dict(mission.names) if mission is not None else None
    return dict(visit.organisation) if visit.organisation else None


VISIT_STATUS = {
    VisitStatus.REQUESTED: EntryStatus.TENTATIVE,
    VisitStatus.APPROVED: EntryStatus.TENTATIVE,
    VisitStatus.SCHEDULED: EntryStatus.CONFIRMED,
    VisitStatus.COMPLETED: EntryStatus.CONFIRMED,
    VisitStatus.DECLINED: EntryStatus.CANCELLED,
    VisitStatus.CANCELLED: EntryStatus.CANCELLED,
}


@deriver("itinerary", single_uid="itinerary-{}@twinning")
async def itinerary_entries(session: AsyncSession, item_id: str) -> list[Planned]:
    item = await current(session, ItineraryItem, item_id)
    visit = await current(session, Visit, item.visit_id) if item is not None else None
    if item is None or visit is None:
        return []
    official_ids = item.official_ids
    officials = sorted(
        [o for o in [await current(session, Official, i) for i in official_ids] if o is not None],
        key=lambda official: (official.protocol_rank, official.id),
    )
    venue = await current(session, Venue, item.venue_id) if item.venue_id is not None else None
    if venue is not None:
        place, zone = _place(venue.names, venue.address), venue.timezone
    elif item.place is not None:
        place, zone = _place(item.place["names"], item.place.get("address")), item.place["timezone"]
    else:  # a venue not registered (yet): shown in UTC, refreshed when it is
        place, zone = None, "UTC"
    audiences = {
        OFFICE,
        *map(official_audience, official_ids),
        *map(interpreter_audience, item.interpreter_ids),
    }
    refs = {f"official:{o}" for o in official_ids}
    if item.venue_id is not None:
        refs.add(f"venue:{item.venue_id}")
    if visit.partner_id is not None:
        audiences.add(partner_audience(visit.partner_id))
        refs.add(f"partner:{visit.partner_id}")
    if visit.mission_id is not None:
        refs.add(f"mission:{visit.mission_id}")
    status = EntryStatus.CANCELLED if item.removed else VISIT_STATUS[VisitStatus(visit.status)]
    facts = {
        "title": dict(item.titles),
        "location": place,
        "delegation": await _delegation(session, visit),
        "officials": [dict(official.names) for official in officials],
        "interpreter": item.interpreter,
        "notes": item.notes_shared,
    }
    return [
        Planned(
            uid=entry_uid("itinerary", item.id),
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            timezone=zone,
            status=status,
            facts=facts,
            audiences=audiences,
            refs=refs,
        )
    ]


@deriver("city-event", single_uid="city-event-{}@twinning")
async def city_event_entries(session: AsyncSession, city_event_id: str) -> list[Planned]:
    city_event = await current(session, CityEvent, city_event_id)
    if city_event is None:
        return []
    venue = (
        await current(session, Venue, city_event.venue_id)
        if city_event.venue_id is not None
        else None
    )
    if venue is not None:
        place: dict[str, Any] | None = _place(venue.names, venue.address)
    else:
        place = {"text": city_event.venue_place} if city_event.venue_place else None
    invited = set(
        await session.scalars(
            select(Invitation.invitee_id).where(
                Invitation.city_event_id == city_event_id,
                Invitation.invitee_kind == InviteeKind.PARTNER.value,
                Invitation.status == InvitationStatus.INVITED.value,
            )
        )
    )
    official_ids = city_event.official_ids
    officials = sorted(
        [o for o in [await current(session, Official, i) for i in official_ids] if o is not None],
        key=lambda official: (official.protocol_rank, official.id),
    )
    refs = {f"partner:{p}" for p in invited} | {f"official:{o}" for o in official_ids}
    if city_event.venue_id is not None:
        refs.add(f"venue:{city_event.venue_id}")
    cancelled = city_event.status == CityEventStatus.CANCELLED
    facts = {
        "title": dict(city_event.title),
        "description": dict(city_event.description) if city_event.description else None,
        "location": place,
        "video_link": city_event.video_link,
        **({"officials": [dict(o.names) for o in officials]} if officials else {}),
    }
    return [
        Planned(
            uid=entry_uid("city-event", city_event.id),
            starts_at=city_event.starts_at,
            ends_at=city_event.ends_at,
            timezone=city_event.timezone,
            status=EntryStatus.CANCELLED if cancelled else EntryStatus.CONFIRMED,
            facts=facts,
            audiences={
                OFFICE,
                *map(partner_audience, invited),
                *map(official_audience, official_ids),
                *map(interpreter_audience, city_event.interpreter_ids),
            },
            refs=refs,
        )
    ]


def anniversary(agreement: date, years: int) -> date:
    """The day a partnership turns `years` old; 29 February falls on 28 February in common years."""
    try:
        return agreement.replace(year=agreement.year + years)
    except ValueError:
        return agreement.replace(year=agreement.year + years, day=28)


def _all_day(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


@deriver("anniversary")
async def anniversary_entries(session: AsyncSession, partner_id: str) -> list[Planned]:
    """Every fifth anniversary of a partnership in force; none once it has ended."""
    partner = await current(session, PartnerCity, partner_id)
    if partner is None or partner.agreement_date is None or partner.status == PartnerStatus.ENDED:
        return []
    planned = []
    for years in ANNIVERSARY_YEARS:
        starts_at, ends_at = _all_day(anniversary(partner.agreement_date, years))
        facts = {
            "anniversary": {
                "years": years,
                "partner": dict(partner.names),
                "kind": partner.kind,
                "agreement_date": partner.agreement_date.isoformat(),
            }
        }
        planned.append(
            Planned(
                uid=f"anniversary-{partner.id}-{years}@twinning",
                starts_at=starts_at,
                ends_at=ends_at,
                timezone=None,
                status=EntryStatus.CONFIRMED,
                facts=facts,
                audiences={OFFICE, partner_audience(partner.id)},
                refs={f"partner:{partner.id}"},
            )
        )
    return planned


TRIP_STATUS = {
    TripStatus.PLANNED: EntryStatus.CONFIRMED,
    TripStatus.COMPLETED: EntryStatus.CONFIRMED,
    TripStatus.CANCELLED: EntryStatus.CANCELLED,
}


async def _traveller(session: AsyncSession, official: dict[str, Any]) -> dict[str, str] | None:
    """An official on a trip: the register's names, else the name given on the trip."""
    if official.get("official_id") is not None:
        registered = await current(session, Official, official["official_id"])
        if registered is not None:
            return dict(registered.names)
    return {"und": official["name"]} if official.get("name") else None


@deriver("trip")
async def trip_entries(session: AsyncSession, trip_id: str) -> list[Planned]:
    """One entry per leg, in the leg's own time zone; the partner cities a leg visits see it."""
    trip = await current(session, Trip, trip_id)
    if trip is None:
        return []
    legs = await session.scalars(
        select(TripLeg).where(TripLeg.trip_id == trip_id).order_by(TripLeg.position)
    )
    travellers = [await _traveller(session, official) for official in trip.officials]
    official_ids = [o["official_id"] for o in trip.officials if o.get("official_id") is not None]
    planned = []
    for leg in legs:
        partners = [await _partner_names(session, p) for p in leg.partner_ids]
        facts = {
            "leg": {"trip": dict(trip.title), "city": dict(leg.city)},
            "location": {"names": dict(leg.city), "country": leg.country},
            "officials": [names for names in travellers if names is not None],
            "international_event": trip.international_event,
            "partners": [names for names in partners if names is not None],
            "description": leg.itinerary,
        }
        planned.append(
            Planned(
                uid=f"trip-{trip.id}-leg-{leg.position}@twinning",
                starts_at=leg.starts_at,
                ends_at=leg.ends_at,
                timezone=leg.timezone,
                status=TRIP_STATUS[TripStatus(trip.status)],
                facts=facts,
                audiences={
                    OFFICE,
                    *map(official_audience, official_ids),
                    *map(partner_audience, leg.partner_ids),
                },
                refs={
                    *(f"official:{o}" for o in official_ids),
                    *(f"partner:{p}" for p in leg.partner_ids),
                },
            )
        )
    return planned


@deriver("exchange", single_uid="exchange-{}@twinning")
async def exchange_entries(session: AsyncSession, exchange_id: str) -> list[Planned]:
    """An exchange staff recorded, as a whole day; one recorded by a visit, a city event or a
    trip is in the calendar already as that visit, event or trip."""
    exchange = await current(session, Exchange, exchange_id)
    if exchange is None or exchange.source_kind is not None:
        return []
    partners = [await _partner_names(session, p) for p in exchange.partner_ids]
    starts_at, ends_at = _all_day(exchange.date)
    facts = {
        "exchange": {
            "field": exchange.field,
            "partners": [names for names in partners if names is not None],
        },
        "description": dict(exchange.summary),
    }
    return [
        Planned(
            uid=entry_uid("exchange", exchange.id),
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=None,
            status=EntryStatus.CONFIRMED,
            facts=facts,
            audiences={OFFICE, *map(partner_audience, exchange.partner_ids)},
            refs={f"partner:{p}" for p in exchange.partner_ids},
        )
    ]


# --- handlers ---------------------------------------------------------------------------


def _named(ref_kind: str) -> Any:
    """A handler for a record that entries may name (an official, a venue): refresh them, and
    the record's own feed when its name changed."""

    async def handle(session: AsyncSession, event: Event) -> None:
        ref = f"{ref_kind}:{event.aggregate_id}"
        await refresh_referencing(session, ref, event)
        if isinstance(event.payload, Update) and "names" in event.payload.model_fields_set:
            bump_versions(session, [ref])

    return handle


projector.on(OfficialRegistered, OfficialUpdated)(_named("official"))
projector.on(VenueRegistered, VenueUpdated)(_named("venue"))
projector.on(ForeignMissionRegistered, ForeignMissionUpdated)(_named("mission"))


async def _visit_changed(session: AsyncSession, event: Event) -> None:
    visit_id = event.aggregate_id
    with session.no_autoflush:  # the items not flushed yet are among the pending objects
        item_ids = set(
            await session.scalars(
                select(ItineraryItem.id).where(ItineraryItem.visit_id == visit_id)
            )
        )
    item_ids |= {o.id for o in session.new if type(o) is ItineraryItem and o.visit_id == visit_id}
    for item_id in sorted(item_ids):
        await refresh(session, "itinerary", item_id, event)


projector.on(*(step.event for step in STEPS))(_visit_changed)


@projector.on(ItineraryItemAdded, ItineraryItemChanged, ItineraryItemRemoved)
async def itinerary_item(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    assert isinstance(payload, ItineraryItemAdded | ItineraryItemChanged | ItineraryItemRemoved)
    await refresh(session, "itinerary", payload.item_id, event)


#: What the calendar shows of a partner city: its name, and its agreement's date, kind and status.
PARTNER_FACTS_SHOWN = frozenset({"names", "kind", "agreement_date", "status"})


async def _partner_changed(session: AsyncSession, event: Event) -> None:
    """A partner's anniversaries, and the entries that name it. Most updates (region, website,
    fields of cooperation) change nothing the calendar shows and cost nothing here."""
    ref = f"partner:{event.aggregate_id}"
    if isinstance(event.payload, PartnerCityRegistered):
        if event.payload.agreement_date is None and not await _referenced(session, ref):
            return  # no anniversaries, and nothing names it yet
    else:
        changed = event.payload.model_fields_set
        if not changed & PARTNER_FACTS_SHOWN:
            return
        if "names" in changed:
            bump_versions(session, [partner_audience(event.aggregate_id)])  # its feed's name
    await refresh(session, "anniversary", event.aggregate_id, event)
    await refresh_referencing(session, ref, event, done=("anniversary", event.aggregate_id))


async def _referenced(session: AsyncSession, ref: str) -> bool:
    """Whether any entry names `ref` (as the batch's prefetch, or a first look, found them,
    kept in step by `refresh`)."""
    referencing = session.info.setdefault(REFERENCING, {})
    if ref not in referencing:
        await _look_up_referencing(session, [ref])
    return bool(referencing[ref])


projector.on(PartnerCityRegistered, PartnerCityUpdated)(_partner_changed)


def _refresher(kind: str) -> Any:
    """A handler for the events of a source of `kind` whose aggregate is the source itself."""

    async def handle(session: AsyncSession, event: Event) -> None:
        await refresh(session, kind, event.aggregate_id, event)

    return handle


SOURCE_EVENTS: dict[str, tuple[type[Payload], ...]] = {
    "city-event": (
        CityEventScheduled,
        CityEventUpdated,
        CityEventCancelled,
        CityEventCompleted,
        InvitationSent,
        InvitationWithdrawn,
    ),
    "trip": (TripPlanned, TripUpdated, TripCompleted, TripCancelled),
    "exchange": (ExchangeRecorded,),
}
for _kind, _payloads in SOURCE_EVENTS.items():
    projector.on(*_payloads)(_refresher(_kind))
