"""The CRM projector: keeps `partner_cities` from the partner events on `twinning.partners`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.crm.models import PartnerCity
from twinning.streams.events import Event, PartnerCityRegistered, PartnerCityUpdated
from twinning.streams.projection import Park, Projector


async def _prefetch_partners(session: AsyncSession, events: Sequence[Event]) -> None:
    ids = {event.aggregate_id for event in events}
    if ids:
        (await session.scalars(select(PartnerCity).where(PartnerCity.id.in_(ids)))).all()


projector = Projector("crm", tables=[PartnerCity], prefetch=_prefetch_partners)


def _date(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


@projector.on("PartnerCityRegistered")
async def partner_city_registered(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PartnerCityRegistered)
    facts = event.payload.model_dump(mode="json")
    partner = await session.get(PartnerCity, event.aggregate_id)
    if partner is None:
        partner = PartnerCity(id=event.aggregate_id, registered_at=event.occurred_at, version=0)
        session.add(partner)
    for key, value in facts.items():
        setattr(partner, key, _date(value) if key == "agreement_date" else value)
    partner.updated_at = event.occurred_at
    partner.version += 1


@projector.on("PartnerCityUpdated")
async def partner_city_updated(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PartnerCityUpdated)
    partner = await session.get(PartnerCity, event.aggregate_id)
    if partner is None:
        raise Park(event.aggregate_id, f"partner city {event.aggregate_id} is not registered yet")
    for key, value in event.payload.to_json().items():
        if key == "names":
            value = {**partner.names, **value}  # an update adds or replaces languages
        setattr(partner, key, _date(value) if key == "agreement_date" else value)
    partner.updated_at = max(partner.updated_at, event.occurred_at)
    partner.version += 1
