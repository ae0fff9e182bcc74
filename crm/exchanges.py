"""The exchange history for the API: read one exchange, list the history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Exchange, ExchangeMission, ExchangePartner
from twinning.crm.schemas import ExchangeFilter


async def get_exchange(*, db_session: AsyncSession, exchange_id: str) -> Exchange | None:
    return await db_session.get(Exchange, exchange_id)


async def list_exchanges(*, db_session: AsyncSession, query: ExchangeFilter) -> Sequence[Exchange]:
    """Newest first."""
    found = select(Exchange).order_by(Exchange.date.desc(), Exchange.id)
    partner_id, field, year = query.partner_id, query.field, query.year
    if partner_id is not None:
        found = found.where(
            Exchange.id.in_(
                select(ExchangePartner.exchange_id).where(ExchangePartner.partner_id == partner_id)
            )
        )
    if query.mission_id is not None:
        found = found.where(
            Exchange.id.in_(
                select(ExchangeMission.exchange_id).where(
                    ExchangeMission.mission_id == query.mission_id
                )
            )
        )
    if field is not None:
        found = found.where(Exchange.field == field.value)
    if year is not None:
        found = found.where(Exchange.date >= date(year, 1, 1), Exchange.date <= date(year, 12, 31))
    return (await db_session.scalars(query.of(found))).all()
