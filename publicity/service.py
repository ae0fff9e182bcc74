"""Queries of the published versions, for the API and the renderer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.db import utcnow
from twinning.publicity.models import PublicityDocument, PublicityVersion
from twinning.publicity.schemas import VersionSummary

log = logging.getLogger(__name__)


def is_due(now: datetime) -> ColumnElement[bool]:
    """A document the renderer has to look at: marked since its last look, or last looked at
    on an earlier day."""
    return or_(
        PublicityDocument.generation > PublicityDocument.checked_generation,
        PublicityDocument.checked_on.is_(None),
        PublicityDocument.checked_on < now.date(),
    )


async def ask_for(*, db_session: AsyncSession, document: str, locale: str, now: datetime) -> None:
    """A reader asked for the document: if it waits to be looked at, it is looked at next
    (before the documents that waited longer but that nobody asked for), so that someone
    waiting for a brochure gets it within a render or two during a burst instead of behind
    the whole queue. Once per wait: a document asked for already keeps its ask. Best effort:
    a database that refuses the write (busy) leaves the document in its place."""
    pair = and_(PublicityDocument.document == document, PublicityDocument.locale == locale)
    waiting = await db_session.scalar(
        select(PublicityDocument.document).where(
            pair, is_due(now), PublicityDocument.asked_at.is_(None)
        )
    )
    if waiting is None:  # a read only: current, or asked for already
        return
    try:
        await db_session.execute(
            update(PublicityDocument)
            .where(pair, PublicityDocument.asked_at.is_(None))
            .values(asked_at=now)
        )
        await db_session.commit()
    except DBAPIError as exc:
        await db_session.rollback()
        log.info("could not note that %s (%s) was asked for: %s", document, locale, exc)


def _of(document: str, locale: str) -> ColumnElement[bool]:
    return and_(PublicityVersion.document == document, PublicityVersion.locale == locale)


async def latest_version(
    *, db_session: AsyncSession, document: str, locale: str
) -> PublicityVersion | None:
    return await db_session.scalar(
        select(PublicityVersion)
        .where(_of(document, locale))
        .order_by(PublicityVersion.number.desc())
        .limit(1)
    )


async def latest_version_for_a_reader(
    *, db_session: AsyncSession, document: str, locale: str
) -> PublicityVersion | None:
    """The latest version, for someone who reads it: a document still waiting to be looked
    at is asked for (`ask_for`), so that the version they wait for comes next."""
    await ask_for(db_session=db_session, document=document, locale=locale, now=utcnow())
    return await latest_version(db_session=db_session, document=document, locale=locale)


async def latest_number_and_hash(
    *, db_session: AsyncSession, document: str, locale: str
) -> tuple[int, str] | None:
    """The number and content hash of the latest version, without loading the documents."""
    row = (
        await db_session.execute(
            select(PublicityVersion.number, PublicityVersion.content_hash)
            .where(_of(document, locale))
            .order_by(PublicityVersion.number.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def get_version(
    *, db_session: AsyncSession, document: str, locale: str, number: int
) -> PublicityVersion | None:
    return await db_session.scalar(
        select(PublicityVersion).where(_of(document, locale), PublicityVersion.number == number)
    )


async def list_versions(
    *, db_session: AsyncSession, document: str, locale: str
) -> Sequence[VersionSummary]:
    """Newest first, without the documents themselves (only their sizes)."""
    rows = await db_session.execute(
        select(
            PublicityVersion.number,
            PublicityVersion.created_at,
            PublicityVersion.content_hash,
            func.length(PublicityVersion.pdf),
        )
        .where(_of(document, locale))
        .order_by(PublicityVersion.number.desc())
    )
    return [
        VersionSummary(number=n, created_at=created, content_hash=digest, pdf_bytes=size)
        for n, created, digest, size in rows
    ]
