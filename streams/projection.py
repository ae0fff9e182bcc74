"""The projector framework: decode, apply idempotently, archive, park or dead-letter.

A projector is a named set of handlers, one per event type, each an `async` function
`(session, event) -> None` that changes its read model. `EventProcessor` runs every
projector interested in an event inside one transaction, together with the event's archive
row, so that a redelivered event (archived already) is a no-op.

Adding a projector: create a `Projector("name", tables=[...])`, decorate its handlers with
the payload classes of the events they handle (`@projector.on(PartnerCityRegistered)`), and
list it in `twinning.streams.registry.PROJECTORS`.

Speed comes from the batch: the worker hands over up to a thousand events at a time, and a
projector that gives a `prefetch` loads what they touch in a query per kind of record and
`hold`s it; its handlers then ask `current()` (and create with `add()`) instead of querying
per event, and write counters or marks that many events share once, when the transaction
commits (see the calendar's feed versions and the publicity marks).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy import inspect as sqlalchemy_inspect
from sqlalchemy.exc import (
    DatabaseError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase
from twinning.db import async_session_scope, database_error_reason, rowcount, utcnow
from twinning.streams.events import (
    Envelope,
    Event,
    InvalidEvent,
    Payload,
    decode,
    event_type_name,
)
from twinning.streams.redaction import is_redacted_copy
from twinning.streams.store import ArchivedEvent, DeadLetter, ParkedEvent

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Event], Awaitable[None]]
Outcome = Literal["applied", "duplicate", "parked", "dead-lettered"]


# --- what a transaction holds -------------------------------------------------------------
# A batch's handlers look up the same few records again and again (an update after a
# registration, a calendar entry derived from the item a domain projector just wrote). A query
# for each would cost a round trip, and first a flush of everything pending. So a prefetch
# loads what a batch will touch in one query and `hold`s it, noting what does not exist yet;
# handlers ask `current()` and add with `add()`. Held records stay for the transaction (the
# session's identity map keeps its objects only weakly).

HELD_IN_TRANSACTION = "twinning.projection.held"

Record = TypeVar("Record", bound=DeclarativeBase)


def _held(session: AsyncSession, model: type[Any]) -> dict[object, Any]:
    """What this transaction holds of `model`: primary key -> record, or None if absent."""
    held: dict[type[Any], dict[object, Any]] = session.info.setdefault(HELD_IN_TRANSACTION, {})
    return held.setdefault(model, {})


def hold(
    session: AsyncSession, model: type[Record], keys: Iterable[object], rows: Iterable[Record]
) -> None:
    """Remember what a prefetch of `keys` found: `rows`, and that the other keys are absent
    (so a record of a held model must be added with `add()`, which holds it)."""
    held = _held(session, model)
    name = _primary_key(model)
    for row in rows:
        held[getattr(row, name)] = row
    for key in keys:
        held.setdefault(key, None)


#: Keys per query of `load_and_hold`: within every database's limit on a statement's parameters.
KEYS_PER_QUERY = 1000


@cache
def _by_keys(model: type[DeclarativeBase]) -> Any:
    """A model's query by primary keys (`load_and_hold`), made once: building a statement and
    its cache key costs some 70 µs of CPU each time, and an event applied on its own runs
    several such lookups; a prebuilt one with an expanding parameter (`keys`) costs nothing to
    reuse."""
    column = getattr(model, _primary_key(model))
    return select(model).where(column.in_(bindparam("keys", expanding=True)))


async def load_and_hold(session: AsyncSession, model: type[Record], keys: Iterable[object]) -> None:
    """A prefetch's query: the records of `model` with these primary keys, held (the others
    noted absent). Keys this transaction holds already are not asked for again."""
    held = _held(session, model)
    wanted = sorted({key for key in keys if key not in held}, key=str)
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        found = await session.scalars(_by_keys(model), {"keys": chunk})
        hold(session, model, chunk, found)


def held_records(session: AsyncSession, model: type[Record]) -> list[Record]:
    """The records of `model` this transaction holds (found by a prefetch or `current()`, or
    added with `add()`)."""
    return [row for row in _held(session, model).values() if row is not None]


async def current(session: AsyncSession, model: type[Record], key: object) -> Record | None:
    """The record as this transaction has it: held (found by a prefetch, or known not to exist,
    or added with `add()`), or added earlier in the transaction (by another projector or an
    earlier event of the batch), or else from the database."""
    held = _held(session, model)
    if key in held:
        return held[key]  # type: ignore[no-any-return]
    name = _primary_key(model)
    found = next((o for o in session.new if type(o) is model and getattr(o, name) == key), None)
    if found is None:
        with session.no_autoflush:  # what is pending was just looked at: no need to flush it
            found = await session.get(model, key)
    if found is not None:
        held[key] = found
    return found


def add(session: AsyncSession, row: Record) -> Record:
    """Add a new record to the session, held for the `current()` calls that follow."""
    session.add(row)
    _held(session, type(row))[getattr(row, _primary_key(type(row)))] = row
    return row


def forget(session: AsyncSession, model: type[Any], key: object) -> None:
    """Drop a record deleted in this transaction from what it holds."""
    _held(session, model).pop(key, None)


@cache
def _primary_key(model: type[Any]) -> str:
    (column,) = sqlalchemy_inspect(model).primary_key
    return str(column.key)


class Park(Exception):
    """Raised by a handler when the event needs an aggregate that does not exist yet."""

    def __init__(self, waits_for: str, reason: str) -> None:
        super().__init__(reason)
        self.waits_for = waits_for
        self.reason = reason


def body_digest(envelope: Envelope) -> str:
    """The sha256 of an event's canonical JSON (keys sorted, no spaces, ASCII): the same event
    sent twice has the same digest however its producer spaced or ordered it."""
    canonical = json.dumps(envelope.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ConflictingDuplicate(Exception):
    """An event id applied (or parked, or seen earlier in the batch) already, now with another
    body: two different events under one id. The first stands; this one is dead-lettered."""

    def __init__(self, event_id: str, first: str, this: str) -> None:
        self.reason = (
            f"conflicting duplicate: event {event_id} was received before with body"
            f" sha256:{first[:16]}, this one has sha256:{this[:16]}; the first stands"
        )
        super().__init__(self.reason)


def conflict_between(earlier: Envelope | str, event: Event) -> ConflictingDuplicate | None:
    """None if `event` is the same event as `earlier` (an envelope, or a stored body): the same
    canonical body, or an original whose stored copy was redacted since (right to erasure);
    else the conflict, naming both digests."""
    if isinstance(earlier, str):
        if earlier == event.envelope.model_dump_json():  # a redelivery of our own: the usual case
            return None
        earlier = Envelope.model_validate_json(earlier)
    first, this = body_digest(earlier), body_digest(event.envelope)
    if first == this or is_redacted_copy(earlier, event.envelope):
        return None
    return ConflictingDuplicate(event.event_id, first, this)


Prefetch = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]


@dataclass
class Projector:
    name: str
    tables: Sequence[type[DeclarativeBase]] = ()
    #: Event type name -> its handler (bound with `on()`).
    handlers: dict[str, Handler] = field(default_factory=dict)
    #: Loads, in a query per kind of record, what a batch of events (those this projector
    #: handles) will touch, and `hold`s it for the handlers' `current()` calls.
    prefetch: Prefetch | None = None

    def on(self, *payloads: type[Payload]) -> Callable[[Handler], Handler]:
        """Bind the decorated handler to the events whose payload is one of these classes:
        `@projector.on(PartnerCityRegistered)`, or several at once. Each must be a registered
        event type, checked here: a typo or a base class raises at once instead of leaving a
        handler that never runs; so does a second handler for the same event type."""
        if not payloads:
            raise TypeError("on() takes at least one payload class")
        names = [event_type_name(payload) for payload in payloads]

        def register(handler: Handler) -> Handler:
            for name in names:
                if name in self.handlers:
                    raise ValueError(f"the {self.name} projector handles {name} twice")
            self.handlers.update(dict.fromkeys(names, handler))
            return handler

        return register


@dataclass(frozen=True)
class Message:
    """One record as the worker received it."""

    value: bytes | None
    topic: str
    partition: int | None = None
    offset: int | None = None


#: How much of a dead message its record on the dead-letter topic carries (characters; at most
#: 4 bytes each in UTF-8, so the record stays far below the broker's 1 MB limit).
EXCERPT_CHARS = 16_384


@dataclass(frozen=True)
class DeadLetterRecord:
    message: Message
    reason: str
    event_id: str | None

    def original(self) -> tuple[str, str]:
        """The message as text: UTF-8 when it is printable text, else base64."""
        raw = self.message.value or b""
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:  # PostgreSQL text cannot hold NUL
            return base64.b64encode(raw).decode(), "base64"
        return text, "utf-8"

    def to_bytes(self) -> bytes:
        """The record for the dead-letter topic: always well under a broker's message limit
        (1 MB by default), however large the message was. A message longer than
        `EXCERPT_CHARS` goes as its beginning, with `original_truncated`; the whole of it is
        in the `dead_letters` table, matched by `original_sha256`."""
        original, encoding = self.original()
        raw = self.message.value or b""
        return json.dumps(
            {
                "reason": self.reason[:EXCERPT_CHARS],
                "event_id": self.event_id,
                "source": {
                    "topic": self.message.topic,
                    "partition": self.message.partition,
                    "offset": self.message.offset,
                },
                "original": original[:EXCERPT_CHARS],
                "original_encoding": encoding,
                "original_truncated": len(original) > EXCERPT_CHARS,
                "original_bytes": len(raw),
                "original_sha256": hashlib.sha256(raw).hexdigest(),
            },
            ensure_ascii=False,
        ).encode()


DeadLetterSink = Callable[[DeadLetterRecord], Awaitable[None]]

TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError, PoolTimeout, ConnectionError, OSError)


def _is_database_fault(exc: BaseException) -> bool:
    """An error the database reports about itself (SQLite's "database disk image is
    malformed", PostgreSQL's internal errors such as data_corrupted), not about the event: the
    event is held until the database is repaired, never dead-lettered for it."""
    return type(exc) is DatabaseError or isinstance(exc, InternalError)


def is_database_trouble(exc: BaseException) -> bool:
    """The database away a moment or damaged, not what was asked of it: worth trying again."""
    return _is_transient(exc) or _is_database_fault(exc)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT_DB_ERRORS)


async def retry_database(
    operation: Callable[[], Awaitable[None]],
    *,
    retryable: Callable[[BaseException], bool] = _is_transient,
    first_delay: float = 0.05,
    max_backoff: float,
    what: str | None = None,
) -> None:
    """Run `operation` until it succeeds, waiting longer each time (up to `max_backoff`)
    after a failure `retryable` says is the database's; any other failure is raised. With
    `what`, each retry is logged as a warning naming it."""
    delay = first_delay
    while True:
        try:
            await operation()
            return
        except Exception as exc:
            if not retryable(exc):
                raise
            if what is not None:
                log.warning("could not %s (%s); again in %.1fs", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff)


#: The archived bodies of some event ids (prebuilt: see `_by_keys`).
_ARCHIVED = select(ArchivedEvent.event_id, ArchivedEvent.body).where(
    ArchivedEvent.event_id.in_(bindparam("ids", expanding=True))
)


async def apply_events(
    session: AsyncSession,
    events: Sequence[Event],
    projectors: Iterable[Projector],
    *,
    applied_by: str | None = None,
    archive: bool = True,
) -> list[Outcome]:
    """Apply `events` in order in `session` (the caller owns the transaction).

    An event already archived, or seen earlier in the batch, is a `duplicate` when its body is
    the same (`conflict_between`); with another body it raises `ConflictingDuplicate`. The
    archive rows are inserted in bulk at the end, one executemany: a batch costs a few
    statements beyond what the handlers themselves do. The archive is the ledger: an event's
    row is written in the transaction of every projector's change for it (all or none), so an
    archived event was applied once by each projector that handles its type, and one not
    archived by none. `archive=False` replays events of the archive (`rebuild`): neither looked
    up there nor written to it again.
    """
    # Event id -> its archived body, or the envelope of its first event in this batch.
    archived: dict[str, Envelope | str] = {}
    if archive:
        ids = [event.event_id for event in events]
        rows = await session.execute(_ARCHIVED, {"ids": ids})
        archived = {event_id: body for event_id, body in rows}
    projectors = list(projectors)
    # Event type -> the handler of each projector that handles it, in the projectors' order.
    routes: dict[str, list[Handler]] = {}
    for event in events:
        if event.type not in routes:
            routes[event.type] = [
                handler
                for projector in projectors
                if (handler := projector.handlers.get(event.type)) is not None
            ]
    if len(events) > 1:
        for projector in projectors:
            if projector.prefetch is None:
                continue
            interested = [e for e in events if e.type in projector.handlers]
            if interested:
                await projector.prefetch(session, interested)
    outcomes: list[Outcome] = []
    archive_rows: list[dict[str, object]] = []
    now = utcnow()
    for event in events:
        earlier = archived.get(event.event_id)
        if earlier is not None:
            conflict = conflict_between(earlier, event)
            if conflict is not None:
                raise conflict
            outcomes.append("duplicate")
            continue
        archived[event.event_id] = event.envelope
        for handler in routes[event.type]:
            await handler(session, event)
        if not archive:
            outcomes.append("applied")
            continue
        envelope = event.envelope
        archive_rows.append(
            {
                "event_id": event.event_id,
                "topic": event.event_type.topic,
                "type": envelope.type,
                "schema_version": envelope.schema_version,
                "aggregate_id": envelope.aggregate_id,
                "actor": envelope.actor,
                "occurred_at": envelope.occurred_at,
                "body": envelope.model_dump_json(),
                "applied_at": now,
                "applied_by": applied_by,
            }
        )
        outcomes.append("applied")
    await session.flush()
    # A Core insert (the table, not the class): plain executemany, no unit-of-work bookkeeping.
    if archive_rows:
        await session.execute(insert(cast(Table, ArchivedEvent.__table__)), archive_rows)
    return outcomes


async def apply_event(
    session: AsyncSession,
    event: Event,
    projectors: Iterable[Projector],
    *,
    applied_by: str | None = None,
) -> Outcome:
    """Apply one event in `session`; `duplicate` if it was applied before."""
    return (await apply_events(session, [event], projectors, applied_by=applied_by))[0]


#: The key of the PostgreSQL advisory lock that projection transactions take in turn.
PROJECTION_LOCK = int.from_bytes(hashlib.blake2b(b"twinning.projection").digest()[:8], signed=True)


async def _projection_turn(session: AsyncSession) -> None:
    """On PostgreSQL, wait for the projection transactions of other worker processes: two
    committed side by side would each have read the read models without the other's changes
    (an entry refreshed for a partner's new name that the other's new trip leg never got), while
    the archive orders them one after the other. Held until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(PROJECTION_LOCK)))


#: The events parked for some aggregates, oldest first (prebuilt: see `_by_keys`).
_PARKED_FOR = (
    select(ParkedEvent)
    .where(ParkedEvent.waits_for.in_(bindparam("aggregates", expanding=True)))
    .order_by(ParkedEvent.seq)
)


class EventProcessor:
    """Takes raw messages from the agents and never lets an exception escape."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        projectors: Sequence[Projector],
        dead_letter_sink: DeadLetterSink,
        *,
        max_backoff: float = 5.0,
        worker_id: str | None = None,
        after: Callable[[Sequence[Event]], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        #: What else reads each batch's events once they are applied (the worker's mail
        #: notifier): given, in order, the events applied, found applied already or parked (a
        #: parked one again when it is released and applied), never one refused (dead-lettered).
        #: It runs before `process_batch` returns, so before the batch's offsets are acked: a
        #: worker stopped in between hands it the events again, as duplicates.
        self.after = after
        #: The events `_release_parked` applied since the last batch handed its own to `after`.
        self._released: list[Event] = []
        #: One projection transaction at a time, so that the archive's order (`seq`) is the order
        #: in which each transaction saw the others' changes: a replay in that order (`rebuild`)
        #: gives the same read models, and a reader of new `seq`s never skips one committed
        #: late. The agents wait their turn here, first come first served; across worker
        #: processes on PostgreSQL, `_projection_turn` does the same. (On SQLite, which takes
        #: one writer at a time, this also spares them its busy handler's sleeps.)
        self._write_turn = asyncio.Lock()
        self.worker_id = worker_id
        self.projectors = projectors
        self.dead_letter_sink = dead_letter_sink
        self.max_backoff = max_backoff

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the processor's: committed when the block ends, rolled back if it
        raises; one at a time."""
        async with self._write_turn, async_session_scope(self.sessions) as session:
            await _projection_turn(session)
            yield session

    async def process_batch(self, messages: Sequence[Message]) -> list[Outcome]:
        """Apply a batch in one transaction (if anything in it goes wrong, one by one), then
        hand its events to `after`."""
        outcomes, decoded = await self._apply_batch(messages)
        released, self._released = self._released, []
        if self.after is not None:
            followed = [event for event, outcome in decoded if outcome != "dead-lettered"]
            if followed or released:
                await self.after(followed + released)
        return outcomes

    async def _apply_batch(
        self, messages: Sequence[Message]
    ) -> tuple[list[Outcome], list[tuple[Event, Outcome]]]:
        """Each message's outcome, and each decoded event with its own."""
        decoded: list[tuple[Message, Event]] = []
        outcomes: dict[int, Outcome] = {}
        for index, message in enumerate(messages):
            try:
                decoded.append((message, decode(message.value, topic=message.topic)))
            except InvalidEvent as exc:
                await self._dead_letter(DeadLetterRecord(message, exc.reason, exc.event_id))
                outcomes[index] = "dead-lettered"
        events = [event for _, event in decoded]
        if len(events) > 1:
            try:
                async with self._transaction() as session:
                    applied = await apply_events(
                        session, events, self.projectors, applied_by=self.worker_id
                    )
            except Exception:
                log.debug("batch of %d failed; applying one by one", len(decoded), exc_info=True)
            else:
                await self._release_parked(
                    {e.aggregate_id for e, o in zip(events, applied, strict=True) if o == "applied"}
                )
                return self._outcomes(len(messages), outcomes, events, applied)
        singles = [await self._process_one(message, event) for message, event in decoded]
        return self._outcomes(len(messages), outcomes, events, singles)

    @staticmethod
    def _outcomes(
        count: int, refused: dict[int, Outcome], events: list[Event], outcomes: list[Outcome]
    ) -> tuple[list[Outcome], list[tuple[Event, Outcome]]]:
        """Every message's outcome in order (the refused ones' given by their index), and each
        decoded event with its own."""
        each = iter(outcomes)
        in_order = [refused[i] if i in refused else next(each) for i in range(count)]
        return in_order, list(zip(events, outcomes, strict=True))

    async def process(self, message: Message) -> Outcome:
        return (await self.process_batch([message]))[0]

    async def _process_one(self, message: Message, event: Event) -> Outcome:
        delay, integrity_retries = 0.05, 0
        while True:
            try:
                async with self._transaction() as session:
                    outcome = await apply_event(
                        session, event, self.projectors, applied_by=self.worker_id
                    )
            except Park as park:
                return await self._park(message, event, park)
            except ConflictingDuplicate as conflict:
                return await self._dead_letter(
                    DeadLetterRecord(message, conflict.reason, event.event_id)
                )
            except IntegrityError as exc:
                # Most likely the same event applied concurrently (a rebalance); look again.
                integrity_retries += 1
                if integrity_retries > 2:
                    return await self._dead_letter(
                        DeadLetterRecord(message, f"cannot apply: {exc.orig}", event.event_id)
                    )
            except Exception as exc:
                if _is_database_fault(exc):
                    log.error(
                        "the database reports an error (%s): %s %s waits until it is repaired;"
                        " retrying in %.2fs",
                        database_error_reason(exc),
                        event.type,
                        event.event_id,
                        delay,
                    )
                    # (On SQLite the pool's connections are dropped with the error, so a
                    # repaired file is read afresh: `_tune_sqlite` in twinning.db.)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_backoff)
                    continue
                if not _is_transient(exc):
                    log.exception("projector failed on %s %s", event.type, event.event_id)
                    reason = f"projector failed: {type(exc).__name__}: {exc}"
                    return await self._dead_letter(
                        DeadLetterRecord(message, reason, event.event_id)
                    )
                log.warning(
                    "database unavailable (%s); retrying in %.2fs", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            else:
                if outcome == "applied":
                    await self._release_parked({event.aggregate_id})
                return outcome

    async def _park(self, message: Message, event: Event, park: Park) -> Outcome:
        waiting: list[str] = []  # the body of an event parked already under this id

        async def write() -> None:
            async with self._transaction() as session:
                parked = await session.scalar(
                    select(ParkedEvent.body).where(ParkedEvent.event_id == event.event_id)
                )
                if parked is not None:
                    waiting[:] = [parked]
                    return
                session.add(
                    ParkedEvent(
                        event_id=event.event_id,
                        topic=message.topic,
                        waits_for=park.waits_for,
                        reason=park.reason,
                        body=event.envelope.model_dump_json(),
                    )
                )

        await self._retrying(write)
        # Waiting already: the same event again, or another one under its id.
        conflict = conflict_between(waiting[0], event) if waiting else None
        if conflict is not None:
            return await self._dead_letter(
                DeadLetterRecord(message, conflict.reason, event.event_id)
            )
        log.info("parked %s %s: %s", event.type, event.event_id, park.reason)
        # The awaited aggregate may have been applied (by another agent or worker) between
        # our look and the park row's commit, and its release found nothing to release then:
        # look once more now that the row is visible, or the event would wait forever.
        await self._release_parked({park.waits_for})
        return "parked"

    async def _release_parked(self, aggregate_ids: set[str]) -> None:
        """Apply the events that were waiting for these aggregates, oldest first."""
        pending = set(aggregate_ids)
        while pending:
            async with self.sessions() as session:
                parked = (await session.scalars(_PARKED_FOR, {"aggregates": sorted(pending)})).all()
            pending = set()
            for row in parked:
                event = decode(row.body)
                try:
                    async with self._transaction() as session:
                        await session.execute(delete(ParkedEvent).where(ParkedEvent.seq == row.seq))
                        outcome = await apply_event(
                            session, event, self.projectors, applied_by=self.worker_id
                        )
                except Park as park:
                    # Still waiting; if for another aggregate now, it must wait for that one
                    # (and look for it once more, as in `_park`).
                    if park.waits_for != row.waits_for:
                        await self._repark(row.seq, park)
                        pending.add(park.waits_for)
                    continue
                except ConflictingDuplicate as conflict:
                    # Its id was applied meanwhile with another body: it can never apply.
                    await self._unpark(row, conflict.reason)
                    continue
                except Exception:
                    log.exception("could not release parked event %s", row.event_id)
                    continue
                if outcome == "applied":
                    pending.add(event.aggregate_id)
                    self._released.append(event)

    async def expire_parked(self, older_than: timedelta) -> int:
        """Dead-letter parked events whose aggregate never appeared within `older_than`."""
        cutoff = utcnow() - older_than
        async with self.sessions() as session:
            expired = (
                await session.scalars(select(ParkedEvent).where(ParkedEvent.parked_at <= cutoff))
            ).all()
        for row in expired:
            await self._unpark(
                row, f"{row.reason}, and it did not appear within {older_than.total_seconds():.0f}s"
            )
        return len(expired)

    async def _unpark(self, row: ParkedEvent, reason: str) -> None:
        """Take a parked event out of the waiting room and dead-letter it with `reason`."""
        async with self._transaction() as session:
            gone = await session.execute(delete(ParkedEvent).where(ParkedEvent.seq == row.seq))
        if rowcount(gone):  # another worker may have released or expired it meanwhile
            await self._dead_letter(
                DeadLetterRecord(Message(row.body.encode(), row.topic), reason, row.event_id)
            )

    async def _repark(self, seq: int, park: Park) -> None:
        async def write() -> None:
            async with self._transaction() as session:
                await session.execute(
                    update(ParkedEvent)
                    .where(ParkedEvent.seq == seq)
                    .values(waits_for=park.waits_for, reason=park.reason)
                )

        await self._retrying(write)

    async def _dead_letter(self, record: DeadLetterRecord) -> Outcome:
        log.warning("dead letter from %s: %s", record.message.topic, record.reason)
        try:
            await self.dead_letter_sink(record)
        except Exception:
            log.exception("could not send a dead letter to its topic")

        async def write() -> None:
            async with self._transaction() as session:
                session.add(
                    DeadLetter(
                        event_id=record.event_id,
                        topic=record.message.topic,
                        partition=record.message.partition,
                        offset=record.message.offset,
                        reason=record.reason,
                        raw=record.original()[0],  # the whole message, whatever its size
                    )
                )

        await self._retrying(write)
        return "dead-lettered"

    async def _retrying(self, operation: Callable[[], Awaitable[None]]) -> None:
        await retry_database(operation, max_backoff=self.max_backoff)


#: Archived events a rebuild replays at a time: the worker's batch.
REBUILD_BATCH = 1000


async def rebuild(
    sessions: async_sessionmaker[AsyncSession], projectors: Sequence[Projector]
) -> int:
    """Recompute every read model from the archive, in one transaction; returns the number of
    events replayed. The events go through the worker's own path (`apply_events`), a page of
    the archive at a time, in its order."""
    async with async_session_scope(sessions) as session:
        for projector in projectors:
            for table in projector.tables:
                await session.execute(delete(table))
        count, last_seq = 0, 0
        while True:
            page = (
                await session.execute(
                    select(ArchivedEvent.seq, ArchivedEvent.body)
                    .where(ArchivedEvent.seq > last_seq)
                    .order_by(ArchivedEvent.seq)
                    .limit(REBUILD_BATCH)
                )
            ).all()
            if not page:
                return count
            last_seq = page[-1].seq
            events = [decode(body) for _, body in page]
            await apply_events(session, events, projectors, archive=False)
            count += len(events)
