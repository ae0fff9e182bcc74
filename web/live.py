"""Live updates for the web app's pages: server-sent events fed by what the worker applies.

The worker applies events in its own process; every API process learns of them from the table
they all share, the archive of applied events (`event_archive`, in the order of its `seq`). One
`LiveHub` per app polls it every quarter second while someone watches, and hands each new
event, as `{aggregate, type}` (ids and event types only, never personal data), to the streams
that watch its key: `visit:<id>` for a visit and its itinerary, `partner:<id>`, `city-event:<id>`
... (`KIND_OF_TYPE`), or a kind alone (`visit`) for every one of that kind.

A page sets `live` in its context (base.html puts it on `<body data-live>`, several keys apart
by spaces); `static/live.js` opens `GET /ui/live?watch=...` and refreshes the page's main
content when a change arrives, unless the reader is typing (then it offers to).

On PostgreSQL, `seq` is taken when a row is inserted, not when its transaction commits: a
lower number can appear after a higher one (two workers' transactions), or never (a rollback).
The hub remembers the numbers it skipped and looks for them for `GAP_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sse_starlette import EventSourceResponse, ServerSentEvent
from twinning.api.deps import DbSession
from twinning.i18n import L_, force_locale
from twinning.streams.events import EVENT_TYPES
from twinning.streams.store import ArchivedEvent
from twinning.web.pages import User, page_language
from twinning.web.session import Session

log = logging.getLogger(__name__)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Stop this app's hub at shutdown (the streams have ended by then: uvicorn drains them)."""
    try:
        yield
    finally:
        hub: LiveHub | None = getattr(app.state, "live_hub", None)
        if hub is not None:
            await hub.close()


router = APIRouter(prefix="/ui", include_in_schema=False, lifespan=_lifespan)

#: How often the hub looks for newly applied events while a page watches.
POLL_SECONDS = 0.25
#: How long a number skipped in `seq` is looked for (a transaction still open, else a rollback).
GAP_SECONDS = 10.0
#: A stream holds at most this many changes not yet sent; past that one more adds nothing (the
#: page refreshes once for all of them).
QUEUE_SIZE = 50
#: Keepalive comments, for proxies that close a quiet connection.
PING_SECONDS = 15
#: How soon a browser reconnects after losing the stream (EventSource's `retry`).
RETRY_MS = 2000
#: How many of the newest applied events a reconnection (Last-Event-ID) looks through.
CATCH_UP_LIMIT = 500

#: The key kind of each event type's aggregate (the first part of a page's `live` key). An
#: itinerary's events have the visit as their aggregate: they count for the visit.
_KIND_OF_PREFIX = (
    ("Visit", "visit"),
    ("ItineraryItem", "visit"),
    ("PartnerCity", "partner"),
    ("ForeignMission", "mission"),
    ("Contact", "contact"),
    ("Official", "official"),
    ("Venue", "venue"),
    ("Exchange", "exchange"),
    ("Trip", "trip"),
    ("CityEvent", "city-event"),
    ("Invitation", "city-event"),  # keyed by the city event (one partition, in order)
    ("Rsvp", "city-event"),
    ("Interpreter", "interpreter"),
    ("Gift", "gift"),
    ("PressItem", "press"),
    ("PlanAdopted", "plan"),  # the plans' events are keyed by the plan (its year)
    ("SpendingRecorded", "plan"),
    ("KpiValueEntered", "plan"),
    ("CityProfile", "city-profile"),  # our city's profile (one aggregate)
    ("Photo", "photo"),  # a photo for the leaflet and the brochures (keyed by the photo)
)


def kind_of(event_type: str) -> str | None:
    for prefix, kind in _KIND_OF_PREFIX:
        if event_type.startswith(prefix):
            return kind
    return None


KIND_OF_TYPE: dict[str, str] = {
    name: kind for name, _version in EVENT_TYPES if (kind := kind_of(name)) is not None
}
KINDS = frozenset(KIND_OF_TYPE.values())
#: `visit`, or `visit:<id>` (an id as the API makes them, or as another system sends them).
_KEY = re.compile(r"(?P<kind>[a-z-]{1,20})(?::(?P<id>[A-Za-z0-9._~-]{1,100}))?")
MAX_KEYS = 10


def keys_of(aggregate_id: str, event_type: str) -> tuple[str, ...]:
    """The keys a change to this aggregate concerns: the aggregate's, and its kind's."""
    kind = KIND_OF_TYPE.get(event_type) or kind_of(event_type)
    return () if kind is None else (f"{kind}:{aggregate_id}", kind)


def matching(watched: frozenset[str], aggregate_id: str, event_type: str) -> str | None:
    """The watched key that a change to this aggregate concerns, if any."""
    return next((key for key in keys_of(aggregate_id, event_type) if key in watched), None)


def parse_watch(watch: str) -> frozenset[str] | None:
    """The keys asked for (`visit:<id> partner:<id>`, apart by spaces or commas), or None if one
    is not a key."""
    keys = [part for part in re.split(r"[\s,]+", watch) if part]
    if not keys or len(keys) > MAX_KEYS:
        return None
    for key in keys:
        match = _KEY.fullmatch(key)
        if match is None or match["kind"] not in KINDS:
            return None
    return frozenset(keys)


# --- the hub: one per app (per API process), polling the archive ------------------------------


@dataclass(frozen=True)
class Change:
    seq: int
    key: str  # the watched key it matched: `visit:<id>`
    type: str  # the event type: `VisitApproved`

    def event(self) -> ServerSentEvent:
        data = json.dumps({"aggregate": self.key, "type": self.type})
        return ServerSentEvent(data=data, event="change", id=str(self.seq))


@dataclass(eq=False)
class Subscriber:
    keys: frozenset[str]
    queue: asyncio.Queue[Change | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )

    def offer(self, change: Change) -> None:
        # When full, the page refreshes once anyway, for all of them.
        with suppress(asyncio.QueueFull):
            self.queue.put_nowait(change)

    def end(self) -> None:
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            self.queue.get_nowait()
            self.queue.put_nowait(None)


class LiveHub:
    """Polls the archive of applied events while someone watches, and fans out what is new to
    the subscribers whose keys it concerns. Runs on the event loop of the app's server; starts
    with the first subscriber, stops (forgetting its place) a moment after the last one left."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, interval: float = POLL_SECONDS
    ) -> None:
        self._sessions = sessions
        self._interval = interval
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        #: The highest `seq` seen, None while stopped (a new start begins at the newest).
        self._last: int | None = None
        #: Numbers below `_last` not seen yet -> until when (monotonic clock) to look for them.
        self._gaps: dict[int, float] = {}
        self._closed = False

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def last_seq(self) -> int | None:
        return self._last

    async def subscribe(self, keys: frozenset[str]) -> Subscriber:
        """Watch `keys`; from now on, every change applied concerns the subscriber."""
        async with self._lock:
            if self._closed:
                raise RuntimeError("the live hub is closed")
            if self._last is None:
                async with self._sessions() as session:
                    self._last = await session.scalar(select(func.max(ArchivedEvent.seq))) or 0
            subscriber = Subscriber(keys)
            self._subscribers.add(subscriber)
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run(), name="twinning live hub")
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def since(self, seq: int, keys: frozenset[str]) -> list[Change]:
        """The changes after `seq` that concern `keys` (a reconnection's missed events)."""
        ids = {key.partition(":")[2] for key in keys if ":" in key}
        kinds = {key for key in keys if ":" not in key}
        query = select(ArchivedEvent.seq, ArchivedEvent.aggregate_id, ArchivedEvent.type).where(
            ArchivedEvent.seq > seq
        )
        if not kinds:
            query = query.where(ArchivedEvent.aggregate_id.in_(ids))
        query = query.order_by(ArchivedEvent.seq.desc()).limit(CATCH_UP_LIMIT)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        for row in rows:  # the newest that concerns them: one refresh shows them all
            if (key := matching(keys, row.aggregate_id, row.type)) is not None:
                return [Change(row.seq, key, row.type)]
        return []

    async def close(self) -> None:
        """End every stream and stop polling (the app shuts down)."""
        self._closed = True
        for subscriber in list(self._subscribers):
            subscriber.end()
        self._subscribers.clear()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if not self._subscribers:
                # Nobody watches: stop, and start afresh at the newest with the next one. (No
                # await between the check and here: a subscribe cannot slip in between.)
                self._last = None
                self._gaps.clear()
                return
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is away: try again next time
                log.warning(
                    "live updates: cannot read the applied events: %s", type(error).__name__
                )

    async def poll(self) -> None:
        """Read what was applied since the last look and hand it to the subscribers."""
        last = self._last or 0
        low = min(self._gaps, default=last + 1)
        query = (
            select(ArchivedEvent.seq, ArchivedEvent.aggregate_id, ArchivedEvent.type)
            .where(ArchivedEvent.seq >= low)
            .order_by(ArchivedEvent.seq)
            .limit(1000)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        now = time.monotonic()
        for row in rows:
            if row.seq > last:
                if row.seq - last <= 1000:  # a larger jump is no transaction still open
                    for missing in range(last + 1, row.seq):
                        self._gaps[missing] = now + GAP_SECONDS
                last = row.seq
            elif self._gaps.pop(row.seq, None) is None:
                continue  # seen already
            self._publish(Change(row.seq, "", row.type), row.aggregate_id)
        self._last = last
        for missing, until in list(self._gaps.items()):
            if until < now:
                del self._gaps[missing]

    def _publish(self, change: Change, aggregate_id: str) -> None:
        for subscriber in list(self._subscribers):
            key = matching(subscriber.keys, aggregate_id, change.type)
            if key is not None:
                subscriber.offer(Change(change.seq, key, change.type))


def hub_of(app: FastAPI) -> LiveHub:
    """The app's hub, made on first use (an app driven without its lifespan has one too)."""
    hub: LiveHub | None = getattr(app.state, "live_hub", None)
    if hub is None:
        hub = app.state.live_hub = LiveHub(app.state.sessions)
    return hub


# --- the stream ------------------------------------------------------------------------------

#: What live.js says and shows, in the page's language.
TEXTS = {
    # Not "someone else": the same person may have made it in another window.
    "updated": L_("This page has been updated with the latest changes."),
    "changed": L_("What this page shows has just changed."),
    "show": L_("Show the changes"),
}


@router.get("/live", response_model=None)
async def live_stream(
    request: Request,
    user: User,
    db_session: DbSession,
    watch: Annotated[str, Query(max_length=1200)] = "",
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> Response:
    """`text/event-stream` of the changes applied to what `watch` names: first `ready` (with
    the texts live.js shows), then one `change` per applied event, `{aggregate, type}`."""
    # The stream may stay open for an hour: give back the connection the sign-in check used.
    await db_session.close()
    keys = parse_watch(watch)
    if keys is None:
        return Response("watch: one or more keys such as visit:<id>\n", status_code=422)
    hub = hub_of(request.app)
    language = page_language(request)
    with force_locale(language):
        texts = {name: str(text) for name, text in TEXTS.items()}
    session: Session | None = getattr(request.state, "web_session", None)
    # Never longer than the session would last without a page: the browser reconnects, and is
    # refused once the session is over.
    sessions = request.app.state.web_sessions
    ends = session.seen + sessions.idle_seconds if session is not None else time.time() + 60
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else None

    async def changes() -> AsyncIterator[ServerSentEvent]:
        subscriber = await hub.subscribe(keys)
        try:
            yield ServerSentEvent(
                data=json.dumps(texts), event="ready", id=str(hub.last_seq), retry=RETRY_MS
            )
            if resume is not None:
                for missed in await hub.since(resume, keys):
                    # Without an id: the browser's place stays the one `ready` gave.
                    yield ServerSentEvent(data=missed.event().data, event="change")
            while (left := ends - time.time()) > 0:
                try:
                    change = await asyncio.wait_for(subscriber.queue.get(), timeout=left)
                except TimeoutError:
                    break
                if change is None:  # the hub closed
                    break
                yield change.event()
        finally:
            hub.unsubscribe(subscriber)

    return EventSourceResponse(
        changes(),
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
