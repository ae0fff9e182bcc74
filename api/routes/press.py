"""Press items: releases, interviews, articles and broadcasts, linked to the visits, city
events, trips and exchanges they cover; their counts per month and per partner city."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command
from twinning.api.deps import DbSession
from twinning.press import service
from twinning.press.schemas import (
    PressCounts,
    PressFilter,
    PressItemCreate,
    PressItemRead,
    PressItemUpdate,
)
from twinning.refusals import NotFound

router = APIRouter(prefix="/press", tags=["press"])


@router.post("", **COMMAND)
async def record_press_item(data: PressItemCreate, command: Command) -> Accepted:
    event = await command.run(service.record_press_item, data=data)
    return await command.accept(event, location=f"/press/{event.aggregate_id}")


@router.get("/counts", response_model=PressCounts)
async def press_counts(
    year: Annotated[int, Query(ge=1900, le=2200)], db_session: DbSession
) -> PressCounts:
    """How many press items in `year`, per month (and kind) and per partner city."""
    return await service.press_counts(db_session=db_session, year=year)


@router.patch("/{press_item_id}", **COMMAND)
async def update_press_item(
    press_item_id: str, data: PressItemUpdate, command: Command
) -> Accepted:
    event = await command.run(service.update_press_item, press_item_id=press_item_id, data=data)
    return await command.accept(event, location=f"/press/{press_item_id}")


@router.get("/{press_item_id}", response_model=PressItemRead, **READ_ONE)
async def get_press_item(press_item_id: str, db_session: DbSession) -> PressItemRead:
    item = await service.get_press_item(db_session=db_session, press_item_id=press_item_id)
    if item is None:
        raise NotFound("press item", press_item_id)
    return PressItemRead.model_validate(item)


@router.get("", response_model=list[PressItemRead])
async def list_press_items(
    query: Annotated[PressFilter, Query()], db_session: DbSession
) -> list[PressItemRead]:
    """Newest first."""
    found = await service.list_press_items(db_session=db_session, query=query)
    return [PressItemRead.model_validate(i) for i in found]
