"""The office's registers of officials and venues: what itineraries book.

Both registers work alike (register, update, read one, list), so one factory builds their
routers. This module evaluates annotations eagerly (no `from __future__ import annotations`):
FastAPI must see the factory's model classes, which are local variables, not module names.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel
from twinning.api.deps import DbSession, OutboxDoorbell, StaffActor
from twinning.api.routes.partners import Accepted
from twinning.api.routes.visits import accept, domain_errors
from twinning.streams.events import Event, Payload
from twinning.visits import service
from twinning.visits.schemas import (
    OfficialCreate,
    OfficialRead,
    OfficialUpdate,
    PageQuery,
    VenueCreate,
    VenueRead,
    VenueUpdate,
)


def register_router(
    *,
    noun: str,
    prefix: str,
    create: type[Payload],
    update: type[Payload],
    read: type[BaseModel],
    register_command: Callable[..., Awaitable[Event]],
    update_command: Callable[..., Awaitable[Event]],
    get_query: Callable[..., Awaitable[Any]],
    list_query: Callable[..., Awaitable[Sequence[Any]]],
) -> APIRouter:
    """POST, PATCH, GET one and GET list of one register; `{noun}_id` names its path id."""
    router = APIRouter(prefix=prefix, tags=[prefix.strip("/")])
    id_key = f"{noun}_id"

    @router.post(
        "", name=f"register_{noun}", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted
    )
    async def register(
        data: create,  # type: ignore[valid-type]
        db_session: DbSession,
        actor: StaffActor,
        doorbell: OutboxDoorbell,
        response: Response,
    ) -> Accepted:
        event = await register_command(db_session=db_session, data=data, actor=actor)
        return await accept(
            event,
            entity_id=event.aggregate_id,
            location=f"{prefix}/{event.aggregate_id}",
            db_session=db_session,
            doorbell=doorbell,
            response=response,
        )

    @router.patch(
        "/{entity_id}",
        name=f"update_{noun}",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=Accepted,
    )
    async def change(
        entity_id: str,
        data: update,  # type: ignore[valid-type]
        db_session: DbSession,
        actor: StaffActor,
        doorbell: OutboxDoorbell,
        response: Response,
    ) -> Accepted:
        with domain_errors():
            event = await update_command(
                db_session=db_session, data=data, actor=actor, **{id_key: entity_id}
            )
        return await accept(
            event,
            entity_id=entity_id,
            location=f"{prefix}/{entity_id}",
            db_session=db_session,
            doorbell=doorbell,
            response=response,
        )

    @router.get("/{entity_id}", name=f"get_{noun}", response_model=read)
    async def get_one(entity_id: str, db_session: DbSession) -> Any:
        entity = await get_query(db_session=db_session, **{id_key: entity_id})
        if entity is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{noun} {entity_id} not found")
        return read.model_validate(entity)

    @router.get("", name=f"list_{noun}s", response_model=list[read])  # type: ignore[valid-type]
    async def list_all(db_session: DbSession, page: PageQuery) -> Any:
        return [read.model_validate(e) for e in await list_query(db_session=db_session, page=page)]

    return router


router = APIRouter()
router.include_router(
    register_router(
        noun="official",
        prefix="/officials",
        create=OfficialCreate,
        update=OfficialUpdate,
        read=OfficialRead,
        register_command=service.register_official,
        update_command=service.update_official,
        get_query=service.get_official,
        list_query=service.list_officials,
    )
)
router.include_router(
    register_router(
        noun="venue",
        prefix="/venues",
        create=VenueCreate,
        update=VenueUpdate,
        read=VenueRead,
        register_command=service.register_venue,
        update_command=service.update_venue,
        get_query=service.get_venue,
        list_query=service.list_venues,
    )
)
