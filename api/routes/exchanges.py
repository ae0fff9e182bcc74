"""Exchanges with partner cities: record one (command), read the history (queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command
from twinning.api.deps import DbSession
from twinning.crm import exchanges, service
from twinning.crm.schemas import ExchangeCreate, ExchangeFilter, ExchangeRead
from twinning.refusals import NotFound

router = APIRouter(prefix="/exchanges", tags=["exchanges"])


@router.post("", **COMMAND)
async def record_exchange(data: ExchangeCreate, command: Command) -> Accepted:
    event = await command.run(service.record_exchange, data=data)
    return await command.accept(event, location=f"/exchanges/{event.aggregate_id}")


@router.get("/{exchange_id}", response_model=ExchangeRead, **READ_ONE)
async def get_exchange(exchange_id: str, db_session: DbSession) -> ExchangeRead:
    exchange = await exchanges.get_exchange(db_session=db_session, exchange_id=exchange_id)
    if exchange is None:
        raise NotFound("exchange", exchange_id)
    return ExchangeRead.model_validate(exchange)


@router.get("", response_model=list[ExchangeRead])
async def list_exchanges(
    query: Annotated[ExchangeFilter, Query()], db_session: DbSession
) -> list[ExchangeRead]:
    """Newest first."""
    found = await exchanges.list_exchanges(db_session=db_session, query=query)
    return [ExchangeRead.model_validate(e) for e in found]
