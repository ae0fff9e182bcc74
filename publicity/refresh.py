"""Keeps the published documents current, off the event loop.

The projector only marks (document, locale) pairs stale. `Refresher.refresh()` takes the due
pairs in the order they became stale, gathers each one's content (async queries, cheap), and
compares its hash with the latest version's: equal, and the pair is just marked checked, with no
rendering at all; different, and the document is rendered in an executor (a process pool in
the worker, so that WeasyPrint never holds the event loop or its GIL) and stored as the next
version. A pair is also due once a day, since the leaflet's upcoming events and a brochure's
anniversaries move with the date; its hash decides there too.

Fairness, and coalescing a document that keeps going stale. The due pairs form one queue,
oldest first: a pair's place is the time of the mark that made it stale (`marked_at`, see
`twinning.publicity.projector`), and further marks while it waits keep that place, so all of
them are folded into one render. A mark that comes while the pair is being looked at puts it
at the back of the queue instead, behind every pair already waiting. So under a burst in which
every partner event marks the leaflet stale again, the leaflet is rendered once per pass over
the queue, not at every look, and no document jumps ahead of another that became stale
before it: a pair that becomes stale with Q pairs waiting ahead of it is looked at after at
most Q others, that is within ceil((Q + 1) / limit) full looks, however many marks come
meanwhile (the bound counts pairs, not seconds: how long it takes is Q times a render; two
workers only shorten it; marks carry their event's time, so an event applied long after it
happened, such as a parked one, takes the place its time gives it). The generation a look
checks is read with its claim, in one transaction: a mark is either in what the look gathers
or after the claim (and so re-queues the pair); never lost between the two.

A document someone is waiting for goes first: a reader who asks for a document while it
waits (`service.ask_for`, on reading its latest version) puts it ahead of the queue, and a
look in progress gives way after its current render. Each document is asked for at most once
per wait, so the bound above grows by the number of documents asked for, no more.

Several workers may refresh at once. Each claims a pair before it looks at it (until
`CLAIM` from now, so that a renderer that died frees its pairs), and leaves the pairs that
another one holds: two workers share the work instead of doing it twice. Should two still
render one version, its number taken twice is refused by the unique constraint, and the
loser leaves it to the winner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twinning.config import Settings
from twinning.crm.models import PartnerCity
from twinning.db import async_session_scope, rowcount, utcnow
from twinning.i18n import supported_locales
from twinning.plans import documents as reports
from twinning.publicity import briefing, content
from twinning.publicity.models import (
    LEAFLET,
    PublicityDocument,
    PublicityVersion,
    brochure,
    brochure_partner,
)
from twinning.publicity.projector import mark_stale_at
from twinning.publicity.render import render_document
from twinning.publicity.service import is_due, latest_number_and_hash
from twinning.streams.events import KpiMeasure

log = logging.getLogger(__name__)

#: How long a claim holds: longer than any render (a first one with cold fonts included).
CLAIM = timedelta(minutes=5)

#: What a document shows: a leaflet, a brochure, a briefing document or a progress report.
Shown = content.Document | briefing.Briefing | reports.ProgressReport
#: Content and the font cache dir -> (HTML, PDF); picklable, for a process pool.
Render = Callable[[Shown, str | None], tuple[str, bytes]]


@dataclass
class RefreshReport:
    checked: list[tuple[str, str]] = field(default_factory=list)
    rendered: list[tuple[str, str]] = field(default_factory=list)


async def gather(
    session: AsyncSession, *, document: str, locale: str, now: datetime, settings: Settings
) -> Shown | None:
    """What `document` shows in `locale` now; None when its subject is gone."""
    if briefing.visit_of(document) is not None:
        return await briefing.gather(session, document=document, locale=locale, settings=settings)
    if reports.report_of(document) is not None:
        return await reports.gather(
            session, document=document, locale=locale, now=now, settings=settings
        )
    if document == LEAFLET:
        return await content.leaflet(session, locale=locale, now=now, settings=settings)
    partner_id = brochure_partner(document)
    if partner_id is None:
        return None
    return await content.brochure(
        session, partner_id=partner_id, locale=locale, now=now, settings=settings
    )


class Refresher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        executor: Callable[[], Executor] | None = None,
        clock: Callable[[], datetime] = utcnow,
        render: Render = render_document,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        #: Makes the executor the rendering runs in (again if it breaks); None: the event
        #: loop's default thread pool.
        self.new_executor = executor
        self.executor = executor() if executor is not None else None
        self.clock = clock
        self.render = render
        self.font_dir = str(settings.data_dir.resolve() / "publicity" / "fonts")
        self._lock = asyncio.Lock()
        self._ensured = False
        self._closed = False

    def close(self) -> None:
        """Stop rendering at once, for a worker that stops: a document being rendered stays
        stale and is rendered after the next start. The rendering process is ended, not
        waited for: a brochure on a busy machine held a stopping worker for minutes (at exit
        Python joins a process pool's processes)."""
        self._closed = True
        executor, self.executor, self.new_executor = self.executor, None, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()

    async def refresh(
        self, *, limit: int | None = None, go_on: Callable[[], bool] | None = None
    ) -> RefreshReport:
        """Check (and where the content changed, render) up to `limit` due pairs, while
        `go_on()` says so (asked before each pair). A look ends early when a reader has asked
        for a document it does not hold: the next look takes that one first."""
        async with self._lock:
            now = self.clock()
            if not self._ensured:
                await self._ensure_documents(now)
            report = RefreshReport()
            due = await self._due(now, limit)
            for n, (document, locale) in enumerate(due):
                if go_on is not None and not go_on():
                    break
                if n and await self._asked_for_elsewhere(now, due[n:]):
                    break
                generation = await self._claim(document, locale, now)
                if generation is not None:
                    try:
                        await self._refresh_one(document, locale, generation, now, report)
                    finally:
                        await self._release(document, locale)
            return report

    async def _ensure_documents(self, now: datetime) -> None:
        """Once per refresher: every document exists in every locale, even one no event has
        marked yet (the leaflet of a new system, the brochures of partners registered before
        publicity was installed). From then on the projector marks what changes."""
        try:
            async with async_session_scope(self.sessions) as session:
                partners = await session.scalars(select(PartnerCity.id))
                expected = {LEAFLET, *map(brochure, partners)}
                expected |= await briefing.expected_documents(session)
                expected |= await reports.expected_documents(session)
                known = set(
                    (
                        await session.execute(
                            select(PublicityDocument.document, PublicityDocument.locale)
                        )
                    ).all()
                )
                for document in sorted(expected):
                    for locale in supported_locales():
                        if (document, locale) not in known:
                            session.add(
                                PublicityDocument(
                                    document=document,
                                    locale=locale,
                                    generation=1,
                                    marked_at=now,
                                    checked_generation=0,
                                )
                            )
        except IntegrityError:
            return  # another refresher added some meanwhile: the next refresh looks again
        self._ensured = True

    async def _due(self, now: datetime, limit: int | None) -> Sequence[tuple[str, str]]:
        """Up to `limit` due pairs, oldest-stale first. A pair whose claim ran out (its renderer
        died while it held it) comes before all: it was due at its place before it was taken.
        Then the pairs a reader asked for (`service.ask_for`), in the order they were asked."""
        query = (
            select(PublicityDocument.document, PublicityDocument.locale)
            .where(is_due(now), _unclaimed(now))
            .order_by(
                case((PublicityDocument.claimed_until.is_not(None), 0), else_=1),
                case((PublicityDocument.asked_at.is_not(None), 0), else_=1),
                PublicityDocument.asked_at,
                PublicityDocument.marked_at,
                PublicityDocument.document,
                PublicityDocument.locale,
            )
            .limit(limit)
        )
        async with self.sessions() as session:
            return [tuple(row) for row in (await session.execute(query)).all()]  # type: ignore[misc]

    async def _asked_for_elsewhere(self, now: datetime, ahead: Sequence[tuple[str, str]]) -> bool:
        """Whether a reader asked for a due, unclaimed pair that is not among `ahead`."""
        query = (
            select(PublicityDocument.document, PublicityDocument.locale)
            .where(PublicityDocument.asked_at.is_not(None), is_due(now), _unclaimed(now))
            .limit(len(ahead) + 1)
        )
        async with self.sessions() as session:
            asked = {tuple(row) for row in (await session.execute(query)).all()}
        return not asked.issubset(ahead)

    async def _refresh_one(
        self, document: str, locale: str, generation: int, now: datetime, report: RefreshReport
    ) -> None:
        async with self.sessions() as session:
            shown = await gather(
                session, document=document, locale=locale, now=now, settings=self.settings
            )
            latest = await latest_number_and_hash(
                db_session=session, document=document, locale=locale
            )
        report.checked.append((document, locale))
        if shown is not None:
            digest = content.content_hash(shown)
            if latest is None or latest[1] != digest:
                number = latest[0] + 1 if latest is not None else 1
                try:
                    if await self._render(document, locale, shown, digest, number):
                        report.rendered.append((document, locale))
                    elif self._closed:  # the worker is stopping: still stale, for the next
                        return
                except BrokenExecutor:
                    if self._closed:  # the worker is stopping
                        return
                    log.error("the rendering process died; starting another one")
                    self.executor = self.new_executor() if self.new_executor else None
                    return  # still stale: tried again at the next look
                except Exception:
                    # Not retried until the content changes or the day does: a document that
                    # cannot be rendered must not hold up all the others.
                    log.exception("could not render %s (%s)", document, locale)
        await self._mark_checked(document, locale, generation, now)

    async def _render(
        self, document: str, locale: str, shown: Shown, digest: str, number: int
    ) -> bool:
        if self._closed:  # not in the event loop's threads: they would hold the exit up
            return False
        loop = asyncio.get_running_loop()
        html, pdf = await loop.run_in_executor(self.executor, self.render, shown, self.font_dir)
        try:
            async with async_session_scope(self.sessions) as session:
                session.add(
                    PublicityVersion(
                        document=document,
                        locale=locale,
                        number=number,
                        content_hash=digest,
                        created_at=utcnow(),
                        html=html,
                        pdf=pdf,
                    )
                )
                if document == LEAFLET or brochure_partner(document) is not None:
                    await _mark_reports_counting_versions(session, self.clock())
        except IntegrityError:
            log.info(
                "version %d of %s (%s) was stored by another renderer", number, document, locale
            )
            return False
        log.info("rendered %s (%s) version %d", document, locale, number)
        return True

    async def _claim(self, document: str, locale: str, now: datetime) -> int | None:
        """Take the pair, if it is still due and no other renderer holds it (then it is that
        one's to do, or done), and read the generation this look checks, in the same
        transaction: a mark from here on re-queues the pair (see the projector)."""
        pair = (PublicityDocument.document == document, PublicityDocument.locale == locale)
        async with async_session_scope(self.sessions) as session:
            claimed = await session.execute(
                update(PublicityDocument)
                .where(*pair, is_due(now), _unclaimed(now))
                .values(claimed_until=now + CLAIM)
            )
            if not rowcount(claimed):
                return None
            return await session.scalar(select(PublicityDocument.generation).where(*pair))

    async def _release(self, document: str, locale: str) -> None:
        async with async_session_scope(self.sessions) as session:
            await session.execute(
                update(PublicityDocument)
                .where(PublicityDocument.document == document, PublicityDocument.locale == locale)
                .values(claimed_until=None)
            )

    async def _mark_checked(
        self, document: str, locale: str, generation: int, now: datetime
    ) -> None:
        async with async_session_scope(self.sessions) as session:
            await session.execute(
                update(PublicityDocument)
                .where(
                    PublicityDocument.document == document,
                    PublicityDocument.locale == locale,
                    PublicityDocument.checked_generation <= generation,
                )
                .values(
                    checked_generation=generation,
                    checked_on=now.date(),
                    # An ask is answered by this look, unless the document was marked again
                    # meanwhile: then whoever asked waits for the next look, which comes first.
                    asked_at=case(
                        (PublicityDocument.generation <= generation, None),
                        else_=PublicityDocument.asked_at,
                    ),
                )
            )


async def _mark_reports_counting_versions(session: AsyncSession, now: datetime) -> None:
    """A new version of the leaflet or a brochure moves the plans' KPIs that count them."""
    plans = await reports.plans_counting(session, KpiMeasure.PUBLICITY_VERSIONS.value)
    await mark_stale_at(session, now, [d for p in plans for d in reports.documents_of(p)])


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(PublicityDocument.claimed_until.is_(None), PublicityDocument.claimed_until <= now)
