"""CRM commands and queries for the API: commands validate and record events, queries read.

Partner cities, foreign missions and contacts; exchanges are in `twinning.crm.exchanges`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import Contact, ForeignMission, PartnerCity
from twinning.streams import outbox
from twinning.streams.events import (
    ContactErased,
    Event,
    MissionKind,
    PartnerKind,
    PartnerStatus,
    Payload,
    new_event,
)
from twinning.streams.store import OutboxEvent


def record(
    *, db_session: AsyncSession, data: Payload, actor: str, aggregate_id: str | None = None
) -> Event:
    """Record the event of a command in the outbox; a new aggregate gets a new id."""
    event = new_event(data, aggregate_id=aggregate_id or str(uuid.uuid4()), actor=actor)
    outbox.record(db_session, event)
    return event


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


async def unknown_partners(*, db_session: AsyncSession, partner_ids: Sequence[str]) -> list[str]:
    return [
        p
        for p in dict.fromkeys(partner_ids)
        if not await partner_exists(db_session=db_session, partner_id=p)
    ]


async def get_partner(*, db_session: AsyncSession, partner_id: str) -> PartnerCity | None:
    return await db_session.get(PartnerCity, partner_id)


async def list_partners(
    *,
    db_session: AsyncSession,
    kind: PartnerKind | None = None,
    country: str | None = None,
    status: PartnerStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[PartnerCity]:
    query = select(PartnerCity).order_by(PartnerCity.country, PartnerCity.id)
    if kind is not None:
        query = query.where(PartnerCity.kind == kind.value)
    if country is not None:
        query = query.where(PartnerCity.country == country.upper())
    if status is not None:
        query = query.where(PartnerCity.status == status.value)
    return (await db_session.scalars(query.limit(limit).offset(offset))).all()


# --- foreign missions ---------------------------------------------------------------------


async def mission_exists(*, db_session: AsyncSession, mission_id: str) -> bool:
    return await _exists(db_session, ForeignMission, mission_id, "ForeignMissionRegistered")


async def get_mission(*, db_session: AsyncSession, mission_id: str) -> ForeignMission | None:
    return await db_session.get(ForeignMission, mission_id)


async def list_missions(
    *,
    db_session: AsyncSession,
    kind: MissionKind | None = None,
    country: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[ForeignMission]:
    query = select(ForeignMission).order_by(ForeignMission.country, ForeignMission.id)
    if kind is not None:
        query = query.where(ForeignMission.kind == kind.value)
    if country is not None:
        query = query.where(ForeignMission.country == country.upper())
    return (await db_session.scalars(query.limit(limit).offset(offset))).all()


# --- contacts (personal data) ---------------------------------------------------------------


async def get_contact(*, db_session: AsyncSession, contact_id: str) -> Contact | None:
    """The contact as the read model has it once earlier changes to it are applied (so that
    an erased contact is gone, not merely registered in the outbox)."""
    await outbox.settle(db_session, aggregate_ids=[contact_id])
    return await db_session.get(Contact, contact_id)


def erase_contact(*, db_session: AsyncSession, contact_id: str, actor: str) -> Event:
    return record(db_session=db_session, data=ContactErased(), actor=actor, aggregate_id=contact_id)


async def list_contacts(
    *,
    db_session: AsyncSession,
    partner_id: str | None = None,
    mission_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Contact]:
    query = select(Contact).order_by(Contact.name, Contact.id)
    if partner_id is not None:
        query = query.where(Contact.partner_id == partner_id)
    if mission_id is not None:
        query = query.where(Contact.mission_id == mission_id)
    return (await db_session.scalars(query.limit(limit).offset(offset))).all()
