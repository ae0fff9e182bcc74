"""Partner cities: register and update them (commands), read the CRM (queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel
from twinning.api.deps import DbSession, OutboxDoorbell, StaffActor
from twinning.api.language import Language
from twinning.crm import service
from twinning.crm.models import PartnerCity
from twinning.crm.schemas import PartnerCityCreate, PartnerCityRead, PartnerCityUpdate
from twinning.i18n import country_name, localized
from twinning.streams.events import PartnerKind

router = APIRouter(prefix="/partners", tags=["partners"])


class Accepted(BaseModel):
    """The command was validated and its event committed; the read model follows shortly."""

    id: str
    event_id: str


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def register_partner(
    data: PartnerCityCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    event = await service.register_partner(db_session=db_session, data=data, actor=actor)
    await db_session.commit()
    doorbell.notify()
    response.headers["Location"] = f"/partners/{event.aggregate_id}"
    return Accepted(id=event.aggregate_id, event_id=event.event_id)


@router.patch("/{partner_id}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def update_partner(
    partner_id: str,
    data: PartnerCityUpdate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    if not await service.partner_exists(db_session=db_session, partner_id=partner_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner city {partner_id} not found")
    event = await service.update_partner(
        db_session=db_session, partner_id=partner_id, data=data, actor=actor
    )
    await db_session.commit()
    doorbell.notify()
    response.headers["Location"] = f"/partners/{partner_id}"
    return Accepted(id=partner_id, event_id=event.event_id)


def _read(partner: PartnerCity, language: str) -> PartnerCityRead:
    read = PartnerCityRead.model_validate(partner)
    return read.model_copy(
        update={
            "name": localized(read.names, language),
            "country_name": country_name(read.country, locale=language),
        }
    )


@router.get("/{partner_id}", response_model=PartnerCityRead)
async def get_partner(
    partner_id: str, db_session: DbSession, language: Language
) -> PartnerCityRead:
    partner = await service.get_partner(db_session=db_session, partner_id=partner_id)
    if partner is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner city {partner_id} not found")
    return _read(partner, language)


@router.get("", response_model=list[PartnerCityRead])
async def list_partners(
    db_session: DbSession,
    language: Language,
    kind: PartnerKind | None = None,
    country: Annotated[
        str | None, Query(pattern="^[A-Za-z]{2}$", description="ISO 3166 code")
    ] = None,
) -> list[PartnerCityRead]:
    partners = await service.list_partners(db_session=db_session, kind=kind, country=country)
    return [_read(p, language) for p in partners]
