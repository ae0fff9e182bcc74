"""Exchanges with partner cities: record one (command), read the history (queries)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from twinning.api.common import Accepted, Limit, Offset, Year, accept
from twinning.api.deps import DbSession, OutboxDoorbell, StaffActor
from twinning.crm import exchanges, service
from twinning.crm.schemas import ExchangeCreate, ExchangeRead
from twinning.streams.events import ExchangeField

router = APIRouter(prefix="/exchanges", tags=["exchanges"])


async def require_partners(db_session: DbSession, partner_ids: list[str]) -> None:
    unknown = await service.unknown_partners(db_session=db_session, partner_ids=partner_ids)
    if unknown:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"partner cities not found: {', '.join(unknown)}"
        )


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def record_exchange(
    data: ExchangeCreate,
    db_session: DbSession,
    actor: StaffActor,
    doorbell: OutboxDoorbell,
    response: Response,
) -> Accepted:
    await require_partners(db_session, data.partner_ids)
    event = service.record(db_session=db_session, data=data, actor=actor)
    return await accept(
        event,
        db_session=db_session,
        doorbell=doorbell,
        response=response,
        location=f"/exchanges/{event.aggregate_id}",
    )


@router.get("/{exchange_id}", response_model=ExchangeRead)
async def get_exchange(exchange_id: str, db_session: DbSession) -> ExchangeRead:
    exchange = await exchanges.get_exchange(db_session=db_session, exchange_id=exchange_id)
    if exchange is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"exchange {exchange_id} not found")
    return ExchangeRead.model_validate(exchange)


@router.get("", response_model=list[ExchangeRead])
async def list_exchanges(
    db_session: DbSession,
    partner_id: str | None = None,
    field: ExchangeField | None = None,
    year: Year | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ExchangeRead]:
    """Newest first."""
    found = await exchanges.list_exchanges(
        db_session=db_session,
        partner_id=partner_id,
        field=field,
        year=year,
        limit=limit,
        offset=offset,
    )
    return [ExchangeRead.model_validate(e) for e in found]
