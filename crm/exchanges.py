"""The exchange history for the API: record an exchange, read the history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Exchange, ExchangePartner
from twinning.streams.events import ExchangeField


async def get_exchange(*, db_session: AsyncSession, exchange_id: str) -> Exchange | None:
    return await db_session.get(Exchange, exchange_id)


async def list_exchanges(
    *,
    db_session: AsyncSession,
    partner_id: str | None = None,
    field: ExchangeField | None = None,
    year: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Exchange]:
    """Newest first."""
    query = select(Exchange).order_by(Exchange.date.desc(), Exchange.id)
    if partner_id is not None:
        query = query.where(
            Exchange.id.in_(
                select(ExchangePartner.exchange_id).where(ExchangePartner.partner_id == partner_id)
            )
        )
    if field is not None:
        query = query.where(Exchange.field == field.value)
    if year is not None:
        query = query.where(Exchange.date >= date(year, 1, 1), Exchange.date <= date(year, 12, 31))
    return (await db_session.scalars(query.limit(limit).offset(offset))).all()
