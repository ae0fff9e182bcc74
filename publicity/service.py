"""Queries of the published versions, for the API and the renderer."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.publicity.models import PublicityVersion
from twinning.publicity.schemas import VersionSummary


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
