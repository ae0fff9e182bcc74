"""CRM commands and queries for the API: commands validate and record events, queries read.

Partner cities, foreign missions and contacts; exchanges are in `twinning.crm.exchanges`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.crm.schemas import (
    ContactCreate,
    ContactFilter,
    ContactUpdate,
    ExchangeCreate,
    ForeignMissionCreate,
    ForeignMissionUpdate,
    MissionFilter,
    PartnerCityCreate,
    PartnerCityUpdate,
    PartnerFilter,
)
from twinning.refusals import NotFound
from twinning.streams import outbox
from twinning.streams.events import ContactErased, Event
from twinning.streams.store import OutboxEvent


async def _exists(
    db_session: AsyncSession, model: type[Any], record_id: str, registered_by: str
) -> bool:
    """Known to the read model, or registered by a command the worker has not applied yet."""
    if await db_session.get(model, record_id) is not None:
        return True
    registered = select(OutboxEvent.id).where(
        OutboxEvent.aggregate_id == record_id, OutboxEvent.type == registered_by
    )
    return await db_session.scalar(registered.limit(1)) is not None


# --- partner cities -----------------------------------------------------------------------


async def partner_exists(*, db_session: AsyncSession, partner_id: str) -> bool:
    return await _exists(db_session, PartnerCity, partner_id, "PartnerCityRegistered")


async def require_partners(*, db_session: AsyncSession, partner_ids: Sequence[str]) -> None:
    """Refuse with `NotFound` naming every partner city that is not registered."""
    unknown = [
        p
        for p in dict.fromkeys(partner_ids)
        if not await partner_exists(db_session=db_session, partner_id=p)
    ]
    if unknown:
        raise NotFound("partner city", *unknown, plural=True)


async def register_partner(
    *, db_session: AsyncSession, data: PartnerCityCreate, actor: str
) -> Event:
    return outbox.record(db_session, data, actor=actor)


async def update_partner(
    *, db_session: AsyncSession, partner_id: str, data: PartnerCityUpdate, actor: str
) -> Event:
    if not await partner_exists(db_session=db_session, partner_id=partner_id):
        raise NotFound("partner city", partner_id)
    return outbox.record(db_session, data, aggregate_id=partner_id, actor=actor)


async def get_partner(*, db_session: AsyncSession, partner_id: str) -> PartnerCity | None:
    return await db_session.get(PartnerCity, partner_id)


async def list_partners(*, db_session: AsyncSession, query: PartnerFilter) -> Sequence[PartnerCity]:
    found = select(PartnerCity).order_by(PartnerCity.country, PartnerCity.id)
    if query.kind is not None:
        found = found.where(PartnerCity.kind == query.kind.value)
    if query.country is not None:
        found = found.where(PartnerCity.country == query.country.upper())
    if query.status is not None:
        found = found.where(PartnerCity.status == query.status.value)
    return (await db_session.scalars(query.of(found))).all()


# --- foreign missions ---------------------------------------------------------------------


async def mission_exists(*, db_session: AsyncSession, mission_id: str) -> bool:
    return await _exists(db_session, ForeignMission, mission_id, "ForeignMissionRegistered")


async def register_mission(
    *, db_session: AsyncSession, data: ForeignMissionCreate, actor: str
) -> Event:
    return outbox.record(db_session, data, actor=actor)


async def update_mission(
    *, db_session: AsyncSession, mission_id: str, data: ForeignMissionUpdate, actor: str
) -> Event:
    if not await mission_exists(db_session=db_session, mission_id=mission_id):
        raise NotFound("foreign mission", mission_id)
    return outbox.record(db_session, data, aggregate_id=mission_id, actor=actor)


async def get_mission(*, db_session: AsyncSession, mission_id: str) -> ForeignMission | None:
    return await db_session.get(ForeignMission, mission_id)


async def list_missions(
    *, db_session: AsyncSession, query: MissionFilter
) -> Sequence[ForeignMission]:
    found = select(ForeignMission).order_by(ForeignMission.country, ForeignMission.id)
    if query.kind is not None:
        found = found.where(ForeignMission.kind == query.kind.value)
    if query.country is not None:
        found = found.where(ForeignMission.country == query.country.upper())
    return (await db_session.scalars(query.of(found))).all()


# --- contacts (personal data) ---------------------------------------------------------------


async def get_contact(*, db_session: AsyncSession, contact_id: str) -> Contact | None:
    """The contact as the read model has it once earlier changes to it are applied (so that
    an erased contact is gone, not merely registered in the outbox)."""
    await outbox.settle(db_session, aggregate_ids=[contact_id])
    return await db_session.get(Contact, contact_id)


async def _existing_contact(db_session: AsyncSession, contact_id: str) -> Contact:
    contact = await get_contact(db_session=db_session, contact_id=contact_id)
    if contact is None:
        raise NotFound("contact", contact_id)
    return contact


async def register_contact(*, db_session: AsyncSession, data: ContactCreate, actor: str) -> Event:
    """A contact of a registered partner city or foreign mission."""
    if data.partner_id is not None:
        await require_partners(db_session=db_session, partner_ids=[data.partner_id])
    if data.mission_id is not None and not await mission_exists(
        db_session=db_session, mission_id=data.mission_id
    ):
        raise NotFound("foreign mission", data.mission_id)
    return outbox.record(db_session, data, actor=actor)


async def update_contact(
    *, db_session: AsyncSession, contact_id: str, data: ContactUpdate, actor: str
) -> Event:
    await _existing_contact(db_session, contact_id)
    return outbox.record(db_session, data, aggregate_id=contact_id, actor=actor)


async def erase_contact(*, db_session: AsyncSession, contact_id: str, actor: str) -> Event:
    await _existing_contact(db_session, contact_id)
    return outbox.record(db_session, ContactErased(), aggregate_id=contact_id, actor=actor)


async def list_contacts(*, db_session: AsyncSession, query: ContactFilter) -> Sequence[Contact]:
    found = select(Contact).order_by(Contact.name, Contact.id)
    if query.partner_id is not None:
        found = found.where(Contact.partner_id == query.partner_id)
    if query.mission_id is not None:
        found = found.where(Contact.mission_id == query.mission_id)
    return (await db_session.scalars(query.of(found))).all()


# --- exchanges (the history is read in `twinning.crm.exchanges`) ----------------------------


async def require_missions(*, db_session: AsyncSession, mission_ids: Sequence[str]) -> None:
    """Refuse with `NotFound` naming every foreign mission that is not registered."""
    unknown = [
        m
        for m in dict.fromkeys(mission_ids)
        if not await mission_exists(db_session=db_session, mission_id=m)
    ]
    if unknown:
        raise NotFound("foreign mission", *unknown, plural=True)


async def record_exchange(*, db_session: AsyncSession, data: ExchangeCreate, actor: str) -> Event:
    await require_partners(db_session=db_session, partner_ids=data.partner_ids)
    await require_missions(db_session=db_session, mission_ids=data.mission_ids)
    return outbox.record(db_session, data, actor=actor)
