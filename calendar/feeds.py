"""Calendar feeds: secret feed links, and building one audience's feed in one language fast.

A feed is the entries of one audience (`office`, `official:<id>`, `partner:<id>`) that fall in
its window: from a year ago to ten years ahead, cancelled ones for 30 days after their
cancellation (or after they left this audience), then no more.

Serving is cached at three levels, in the API process:
- the live links (the SHA-256 of the secret -> audience and language) and each audience's
  `FeedVersion`, trusted for `feed_check_interval` seconds (`FeedCache.check_interval`): an
  unchanged feed and a 304 answer need no database query in between, and a change by the
  worker (or a link revoked by another API process) shows after at most that long. Sooner:
  they are trusted only while nothing that may change a feed was committed since they were
  read (a stamp: SQLite's own change counter, `CommitStamp`, a look that costs a few
  microseconds; PostgreSQL's notifications, `NotifiedStamp`), so the first request after
  the worker's commit looks again;
- the rendered VEVENT of each (entry, revision, language, variant): an entry is rendered again
  only when it changed (the projector raises its `revision`);
- the assembled feed of each (audience, language): served as it is while the audience's
  `FeedVersion` (raised by the projector on every change) is the same and no entry has
  entered or left the window since. Otherwise the entries' heads are read again; if their
  fingerprint is unchanged the feed is too, else it is reassembled from the cached VEVENTs
  plus the ones that changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import sqlite3
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import anyio
from sqlalchemy import URL, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twinning.calendar.describe import EntryRow, vevent
from twinning.calendar.ical import render_calendar, render_vevent
from twinning.calendar.models import (
    CalendarAudience,
    CalendarEntry,
    EntryStatus,
    FeedLink,
    FeedVersion,
)
from twinning.calendar.projector import FEEDS_CHANNEL, NOTIFY_FEEDS, OFFICE
from twinning.crm.models import PartnerCity
from twinning.i18n import DEFAULT_LOCALE, force_locale, labels, localized, resolve
from twinning.schedule.models import Interpreter
from twinning.visits.models import Official

log = logging.getLogger(__name__)

PAST_WINDOW = timedelta(days=365)
FUTURE_WINDOW = timedelta(days=3653)
KEEP_CANCELLED = timedelta(days=30)
#: How often clients are asked to refresh (REFRESH-INTERVAL, X-PUBLISHED-TTL).
REFRESH = timedelta(hours=1)
#: Bump when the rendering changes, so that no ETag of the old rendering matches.
RENDERING = "1"


# --- audiences --------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Whose feed: `office`, `official:<id>`, `interpreter:<id>` or `partner:<id>`."""

    key: str

    @classmethod
    def office(cls) -> Audience:
        return cls(OFFICE)

    @classmethod
    def official(cls, official_id: str) -> Audience:
        return cls(f"official:{official_id}")

    @classmethod
    def interpreter(cls, interpreter_id: str) -> Audience:
        return cls(f"interpreter:{interpreter_id}")

    @classmethod
    def partner(cls, partner_id: str) -> Audience:
        return cls(f"partner:{partner_id}")

    @property
    def kind(self) -> str:
        return self.key.partition(":")[0]

    @property
    def id(self) -> str | None:
        return self.key.partition(":")[2] or None

    @property
    def public(self) -> bool:
        """A partner city's feed is public: it leaves out what is for the city's officials."""
        return self.kind == "partner"


async def feed_name(*, db_session: AsyncSession, audience: Audience) -> str | None:
    """The feed's name in the current locale; None when its official or partner is unknown."""
    if audience.kind == OFFICE:
        return str(labels.OFFICE_CALENDAR)
    if audience.kind == "interpreter":
        interpreter = await db_session.get(Interpreter, audience.id)
        return labels.official_calendar_name(interpreter.name) if interpreter is not None else None
    record: Official | PartnerCity | None = (
        await db_session.get(Official, audience.id)
        if audience.kind == "official"
        else await db_session.get(PartnerCity, audience.id)
    )
    if record is None:
        return None
    name = localized(record.names) or ""
    if audience.kind == "official":
        return labels.official_calendar_name(name)
    return labels.partner_calendar_name(name)


async def audience_exists(*, db_session: AsyncSession, audience: Audience) -> bool:
    return await feed_name(db_session=db_session, audience=audience) is not None


# --- feed links -------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """Only this is stored: a random 256-bit secret needs no slow password hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(link: FeedLink) -> str:
    token = secrets.token_urlsafe(32)
    link.token_hash = hash_token(token)
    link.token_prefix = token[:6]
    return token


async def create_link(
    *,
    db_session: AsyncSession,
    audience: Audience,
    language: str,
    label: str | None,
    actor: str,
    now: datetime,
) -> tuple[FeedLink, str]:
    """A new secret link to `audience`'s feed; returns the link and its secret (shown once)."""
    link = FeedLink(
        id=str(uuid.uuid4()),
        audience=audience.key,
        language=language,
        label=label,
        created_at=now,
        created_by=actor,
    )
    token = _new_token(link)
    db_session.add(link)
    return link, token


async def rotate_link(*, db_session: AsyncSession, link: FeedLink, now: datetime) -> str:
    """A new secret for the link; the old one stops working at once."""
    token = _new_token(link)
    link.rotated_at = now
    await _announce(db_session)
    return token


async def revoke_link(
    *, db_session: AsyncSession, link: FeedLink, actor: str, now: datetime
) -> None:
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = now, actor
        await _announce(db_session)


async def _announce(db_session: AsyncSession) -> None:
    """On PostgreSQL, tell the other API processes at commit that a link changed (SQLite's
    commit stamp says so by itself)."""
    if db_session.get_bind().dialect.name == "postgresql":
        await db_session.execute(NOTIFY_FEEDS)


async def get_link(*, db_session: AsyncSession, link_id: str) -> FeedLink | None:
    return await db_session.get(FeedLink, link_id)


async def list_links(
    *, db_session: AsyncSession, audience: Audience | None = None, include_revoked: bool = False
) -> Sequence[FeedLink]:
    query = select(FeedLink).order_by(FeedLink.created_at, FeedLink.id)
    if audience is not None:
        query = query.where(FeedLink.audience == audience.key)
    if not include_revoked:
        query = query.where(FeedLink.revoked_at.is_(None))
    return (await db_session.scalars(query)).all()


@dataclass(frozen=True)
class LiveLink:
    """What a feed request needs of its link, held in memory (`FeedCache.links`)."""

    audience: str
    language: str
    #: The audience's `FeedVersion` when this was read (0 before its first change).
    version: int
    checked_at: float
    #: The database's stamp just before this was read (`feed_stamp`), if it could be read.
    stamp: int | None = None


async def live_link(
    *, sessions: async_sessionmaker[AsyncSession], cache: FeedCache, token: str
) -> LiveLink | None:
    """The live link of `token`, from memory while it was checked within the cache's
    `check_interval`, else with one query that also reads its audience's feed version. The
    requests that come while that query runs wait for its answer (one query, not one each)."""
    digest = hash_token(token)
    known = cache.checked_link(digest)
    if known is not None:
        return known
    check = cache.checking.get(digest)
    if check is None:
        # A task of its own: a request that goes away does not cancel the others' answer.
        check = asyncio.ensure_future(_check_link(sessions, cache, digest))
        cache.checking[digest] = check
        check.add_done_callback(lambda _: cache.checking.pop(digest, None))
    return await asyncio.shield(check)


async def _check_link(
    sessions: async_sessionmaker[AsyncSession], cache: FeedCache, digest: str
) -> LiveLink | None:
    now, stamp = time.monotonic(), cache.stamp()
    async with sessions() as db_session:
        row = (
            await db_session.execute(
                select(FeedLink.audience, FeedLink.language, FeedVersion.version)
                .outerjoin(FeedVersion, FeedVersion.audience == FeedLink.audience)
                .where(FeedLink.token_hash == digest, FeedLink.revoked_at.is_(None))
            )
        ).first()
    if row is None:
        cache.links.pop(digest, None)
        return None
    link = LiveLink(row.audience, row.language, row.version or 0, now, stamp)
    cache.links[digest] = link
    cache.saw_version(link.audience, link.version, now, stamp)
    return link


async def link_of_token(*, db_session: AsyncSession, token: str) -> FeedLink | None:
    """The live link whose secret is `token`; None for an unknown or revoked one."""
    return await db_session.scalar(
        select(FeedLink).where(
            FeedLink.token_hash == hash_token(token), FeedLink.revoked_at.is_(None)
        )
    )


def feed_language(wanted: str | None, default: str) -> str:
    """`?lang=` when it names a supported locale, else the link's (or partner's) language."""
    return (resolve(wanted) if wanted else None) or default


def partner_language(partner: PartnerCity) -> str:
    """A partner city's feed speaks the first of its languages that twinning speaks."""
    return next(
        (locale for tag in partner.languages if (locale := resolve(tag)) is not None),
        DEFAULT_LOCALE,
    )


# --- building feeds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime
    language: str


class _Head(NamedTuple):  # a tuple: a feed builds thousands of these per change
    """What decides whether and how an entry appears in a feed."""

    uid: str
    revision: int
    starts_at: datetime
    ends_at: datetime
    timezone: str | None
    changed_at: datetime
    #: When it was cancelled for this audience (its own cancellation, or leaving the audience).
    cancelled_at: datetime | None


@dataclass
class _CachedFeed:
    feed: Feed
    fingerprint: str
    version: int
    as_of: datetime
    valid_until: datetime


K = TypeVar("K")
V = TypeVar("V")
EventKey = tuple[str, int, str, bool, bool]
FeedKey = tuple[str, str]


class CommitStamp:
    """A number that changes whenever anything is committed to a SQLite database, by any
    connection of any process: SQLite's `PRAGMA data_version`, read on a read-only connection
    of its own (which never writes, so every commit is another's). A few microseconds, no
    thread hop: cheap enough for every feed request. None when it cannot be read (the
    callers then trust the time alone). A file replaced under it (a restore) is not seen:
    its stamp stops moving, and the check interval still bounds how long anything is trusted."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def of(cls, url: URL) -> CommitStamp | None:
        """The stamp of a SQLite database file; None for another database (or an in-memory one)."""
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return cls(url.database)

    async def start(self) -> None:
        """Nothing to start: the connection is opened at the first read."""

    async def stop(self) -> None:
        self.close()

    def __call__(self) -> int | None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    f"file:{quote(self.path)}?mode=ro", uri=True, check_same_thread=False
                )
            return int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self.close()
            return None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class NotifiedStamp:
    """PostgreSQL's counterpart of `CommitStamp`: a count that moves with every notification
    on `FEEDS_CHANNEL`, which the calendar projector sends in each transaction that raises a
    feed version and the API with each link it revokes or rotates (`pg_notify`: delivered at
    commit). Received on a connection of its own (asyncpg's `add_listener`), reopened with
    backoff when it is lost; None while it is down, and it moves once more whenever it comes
    back (anything may have been committed meanwhile). Only what is announced moves it: a
    change that is not still shows within the check interval, as before."""

    def __init__(self, url: URL) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.count = 0
        self.listening = False
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, url: URL) -> NotifiedStamp | None:
        return cls(url) if url.get_backend_name() == "postgresql" else None

    def __call__(self) -> int | None:
        return self.count if self.listening else None

    def _notified(self, *_: object) -> None:
        self.count += 1

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        import asyncpg  # the API's PostgreSQL driver; not needed on SQLite

        backoff = 0.1
        while True:
            try:
                connection = await asyncpg.connect(self.dsn)
                try:
                    lost = asyncio.Event()
                    connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                    await connection.add_listener(FEEDS_CHANNEL, self._notified)
                    self.count += 1  # whatever was committed while nobody listened
                    self.listening, backoff = True, 0.1
                    await lost.wait()
                    log.warning("the listener for feed changes lost its connection; reconnecting")
                finally:
                    self.listening = False
                    if not connection.is_closed():
                        connection.terminate()
            except Exception as exc:  # the database away: the check interval decides meanwhile
                log.warning(
                    "cannot listen for feed changes (%s); retrying in %.1f s",
                    type(exc).__name__,
                    backoff,
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def feed_stamp(url: URL) -> CommitStamp | NotifiedStamp | None:
    """The database's stamp for the feed cache: SQLite's commit counter, or PostgreSQL's
    notifications; None for an in-memory SQLite database (one process: nothing to follow)."""
    return CommitStamp.of(url) or NotifiedStamp.of(url)


def _no_stamp() -> int | None:
    return None


class FeedCache:
    """Rendered VEVENTs, assembled feeds and live links of one process, each bounded (the
    least recently used go first).

    `check_interval`: seconds a link and a feed's version are trusted without a look at the
    database (0: look at every request). `stamp`: the database's stamp (`feed_stamp`); with
    one, they are trusted only while it has not moved since they were read, so that a change
    shows at the first request after its commit."""

    def __init__(
        self,
        *,
        max_events: int = 50_000,
        max_feeds: int = 500,
        max_links: int = 10_000,
        check_interval: float = 0.0,
        stamp: Callable[[], int | None] | None = None,
    ) -> None:
        self.events: LRU[EventKey, str] = LRU(max_events)
        self.feeds: LRU[FeedKey, _CachedFeed] = LRU(max_feeds)
        self.links: LRU[str, LiveLink] = LRU(max_links)
        self.check_interval = check_interval
        self.stamp = stamp or _no_stamp
        #: The latest feed version seen of each audience, when (monotonic seconds) and at
        #: which commit stamp.
        self.versions: LRU[str, tuple[int, float, int | None]] = LRU(max_feeds)
        #: The link checks under way (SHA-256 of the secret -> the check's answer).
        self.checking: dict[str, asyncio.Future[LiveLink | None]] = {}

    def _trusted(self, checked_at: float, stamp: int | None) -> bool:
        """Whether what was read at `checked_at`, at commit stamp `stamp`, is still current."""
        if time.monotonic() - checked_at >= self.check_interval:
            return False
        if stamp is None:
            return True
        now = self.stamp()
        return now is None or now == stamp

    def checked_link(self, token_hash: str) -> LiveLink | None:
        """The live link of this secret, if it was checked within `check_interval` (and
        nothing was committed since)."""
        known = self.links.get(token_hash)
        if known is not None and self._trusted(known.checked_at, known.stamp):
            return known
        return None

    def forget_link(self, token_hash: str) -> None:
        """A link rotated or revoked in this process: its old secret answers 404 at once."""
        self.links.pop(token_hash, None)

    def saw_version(self, audience: str, version: int, at: float, stamp: int | None) -> None:
        self.versions[audience] = (version, at, stamp)

    def current(self, audience: Audience, language: str, now: datetime) -> Feed | None:
        """The cached feed, when its audience's version was seen within `check_interval`
        (and nothing was committed since), is the one it was built at, and no entry has
        entered or left its window since."""
        seen = self.versions.get(audience.key)
        if seen is None or not self._trusted(seen[1], seen[2]):
            return None
        cached = self.feeds.get((audience.key, language))
        if (
            cached is not None
            and cached.version == seen[0]
            and cached.as_of <= now < cached.valid_until
        ):
            return cached.feed
        return None


class LRU(OrderedDict[K, V]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        value = super().get(key, default)
        if key in self:
            self.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


def _heads_of(rows: Iterable[Any]) -> list[_Head]:
    heads = []
    for uid, revision, status, cancelled_at, changed_at, starts_at, ends_at, zone, removed in rows:
        cancelled = cancelled_at if status == EntryStatus.CANCELLED else None
        if removed is not None and (cancelled is None or removed < cancelled):
            cancelled = removed
        heads.append(_Head(uid, revision, starts_at, ends_at, zone, changed_at, cancelled))
    return heads


def _drops_at(head: _Head) -> datetime:
    """When an entry leaves the feed: a year after it ended, or 30 days after its cancellation."""
    drop = head.ends_at + PAST_WINDOW
    if head.cancelled_at is not None:
        drop = min(drop, head.cancelled_at + KEEP_CANCELLED)
    return drop


async def _window(
    db_session: AsyncSession, audience: Audience, now: datetime
) -> tuple[list[_Head], datetime, datetime | None]:
    """The entries in the feed now, when that next changes by time alone, and when it last did."""
    columns = (
        CalendarEntry.uid,
        CalendarEntry.revision,
        CalendarEntry.status,
        CalendarEntry.cancelled_at,
        CalendarEntry.changed_at,
        CalendarEntry.starts_at,
        CalendarEntry.ends_at,
        CalendarEntry.timezone,
        CalendarAudience.removed_at,
    )
    of_audience = (CalendarAudience.entry_uid == CalendarEntry.uid) & (
        CalendarAudience.audience == audience.key
    )
    horizon = now + FUTURE_WINDOW
    # Also the entries that left in the last month, for the feed's Last-Modified. Plain rows
    # through the connection: a feed may hold thousands, and ORM result handling would double
    # the time a changed feed takes to answer.
    connection = await db_session.connection()
    rows = await connection.execute(
        select(*columns)
        .join(CalendarAudience, of_audience)
        .where(
            CalendarEntry.ends_at > now - PAST_WINDOW - KEEP_CANCELLED,
            CalendarEntry.starts_at < horizon,
        )
    )
    next_in = await db_session.scalar(
        select(func.min(CalendarEntry.starts_at))
        .join(CalendarAudience, of_audience)
        .where(CalendarEntry.starts_at >= horizon)
    )
    shown, changes_at, changed_at = [], [], []
    for head in _heads_of(rows.all()):
        drop = _drops_at(head)
        appeared = head.starts_at - FUTURE_WINDOW
        if drop > now:
            shown.append(head)
            changes_at.append(drop)
            changed_at.append(max(head.changed_at, head.cancelled_at or head.changed_at, appeared))
        else:
            changed_at.append(drop)
    if next_in is not None:
        changes_at.append(next_in - FUTURE_WINDOW)
    valid_until = min(changes_at, default=now + FUTURE_WINDOW)
    return shown, valid_until, max(changed_at, default=None)


def _fingerprint(name: str, language: str, audience: Audience, shown: list[_Head]) -> str:
    digest = hashlib.sha256(f"{RENDERING}\x1e{audience.key}\x1e{language}\x1e{name}".encode())
    for head in shown:
        digest.update(f"\x1e{head.uid}\x1f{head.revision}\x1f{head.cancelled_at}".encode())
    return digest.hexdigest()[:40]


_ROW_COLUMNS = [getattr(CalendarEntry, name) for name in EntryRow.__slots__]


async def _load_rows(db_session: AsyncSession, uids: list[str]) -> dict[str, EntryRow]:
    """The entries to render, as plain rows (no ORM objects: they go to a rendering thread)."""
    rows: dict[str, EntryRow] = {}
    for start in range(0, len(uids), 500):
        result = await db_session.execute(
            select(*_ROW_COLUMNS).where(CalendarEntry.uid.in_(uids[start : start + 500]))
        )
        rows.update((row.uid, EntryRow(*row)) for row in result)
    return rows


def render_entries(
    rows: Sequence[tuple[EntryRow, bool]], *, language: str, public: bool
) -> list[str]:
    """VEVENT texts of `(row, cancelled for this audience)` pairs in `language`."""
    with force_locale(language):
        return [render_vevent(vevent(row, public=public, cancelled=gone)) for row, gone in rows]


def _timezones(shown: list[_Head]) -> dict[str, tuple[int, int]]:
    """The years each zone's VTIMEZONE covers (a year more on each side: local dates may fall
    in the year before or after the UTC one)."""
    years: dict[str, tuple[int, int]] = {}
    for head in shown:
        if head.timezone is None:
            continue
        first, last = years.get(head.timezone, (head.starts_at.year, head.ends_at.year))
        years[head.timezone] = (min(first, head.starts_at.year), max(last, head.ends_at.year))
    return {zone: (first - 1, last + 1) for zone, (first, last) in years.items()}


async def build_feed(
    *,
    db_session: AsyncSession,
    cache: FeedCache,
    audience: Audience,
    language: str,
    now: datetime,
) -> Feed | None:
    """`audience`'s feed in `language` as of `now`; None when its official or partner is unknown."""
    # The version is read before the entries, so that a feed is never cached under a version
    # newer than what it shows.
    checked, stamp = time.monotonic(), cache.stamp()
    version = (
        await db_session.scalar(
            select(FeedVersion.version).where(FeedVersion.audience == audience.key)
        )
        or 0
    )
    cache.saw_version(audience.key, version, checked, stamp)
    key = (audience.key, language)
    cached = cache.feeds.get(key)
    if (
        cached is not None
        and cached.version == version
        and cached.as_of <= now < cached.valid_until
    ):
        return cached.feed
    with force_locale(language):
        name = await feed_name(db_session=db_session, audience=audience)
    if name is None:
        return None
    shown, valid_until, window_changed = await _window(db_session, audience, now)
    fingerprint = _fingerprint(name, language, audience, shown)
    if cached is None or cached.fingerprint != fingerprint:
        feed = await _assemble(
            db_session, cache, audience, language, name, shown, fingerprint, window_changed, now
        )
    else:
        feed = cached.feed
    cache.feeds[key] = _CachedFeed(feed, fingerprint, version, now, valid_until)
    return feed


async def _assemble(
    db_session: AsyncSession,
    cache: FeedCache,
    audience: Audience,
    language: str,
    name: str,
    shown: list[_Head],
    fingerprint: str,
    window_changed: datetime | None,
    now: datetime,
) -> Feed:
    shown = sorted(shown, key=lambda head: (head.starts_at, head.uid))

    def event_key(head: _Head) -> EventKey:
        return (head.uid, head.revision, language, audience.public, head.cancelled_at is not None)

    texts: dict[str, str] = {}
    missing: list[_Head] = []
    for head in shown:
        text = cache.events.get(event_key(head))
        if text is None:
            missing.append(head)
        else:
            texts[head.uid] = text
    if missing:
        rows = await _load_rows(db_session, [head.uid for head in missing])
        pairs = [(rows[head.uid], head.cancelled_at is not None) for head in missing]
        rendered = await anyio.to_thread.run_sync(
            lambda: render_entries(pairs, language=language, public=audience.public)
        )
        for head, text in zip(missing, rendered, strict=True):
            cache.events[event_key(head)] = texts[head.uid] = text
    events = [texts[head.uid] for head in shown]
    body = render_calendar(
        name=name, refresh=REFRESH, events=events, timezones=_timezones(shown)
    ).encode()
    return Feed(
        body=body,
        etag=f'"{fingerprint}"',
        last_modified=(window_changed or now).replace(microsecond=0),
        language=language,
    )
