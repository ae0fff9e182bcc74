"""CRM commands and queries for the API: commands validate and record events, queries read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import PartnerCity
from twinning.crm.schemas import PartnerCityCreate, PartnerCityUpdate
from twinning.streams import outbox
from twinning.streams.events import Event, PartnerKind, new_event
from twinning.streams.store import OutboxEvent


async def register_partner(
    *, db_session: AsyncSession, data: PartnerCityCreate, actor: str
) -> Event:
    event = new_event(data, aggregate_id=str(uuid.uuid4()), actor=actor)
    outbox.record(db_session, event)
    return event


async def update_partner(
    *, db_session: AsyncSession, partner_id: str, data: PartnerCityUpdate, actor: str
) -> Event:
    event = new_event(data, aggregate_id=partner_id, actor=actor)
    outbox.record(db_session, event)
    return event


async def partner_exists(*, db_session: AsyncSession, partner_id: str) -> bool:
    """Known to the read model, or registered by a command the worker has not applied yet."""
    if await db_session.get(PartnerCity, partner_id) is not None:
        return True
    registered = select(OutboxEvent.id).where(
        OutboxEvent.aggregate_id == partner_id, OutboxEvent.type == "PartnerCityRegistered"
    )
    return await db_session.scalar(registered.limit(1)) is not None


async def get_partner(*, db_session: AsyncSession, partner_id: str) -> PartnerCity | None:
    return await db_session.get(PartnerCity, partner_id)


async def list_partners(
    *, db_session: AsyncSession, kind: PartnerKind | None = None, country: str | None = None
) -> Sequence[PartnerCity]:
    query = select(PartnerCity).order_by(PartnerCity.country, PartnerCity.id)
    if kind is not None:
        query = query.where(PartnerCity.kind == kind.value)
    if country is not None:
        query = query.where(PartnerCity.country == country.upper())
    return (await db_session.scalars(query)).all()
