"""The interpreter roster: register, change, read, list; erase an interpreter's contact.
The contact is personal data: left out of every answer to a caller without access to it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from twinning.api.common import COMMAND, READ_ONE, Accepted, Command
from twinning.api.deps import DbSession, PersonalDataAccess
from twinning.refusals import NotFound
from twinning.schedule import service
from twinning.schedule.models import Interpreter
from twinning.schedule.schemas import (
    PERSONAL_FIELDS,
    InterpreterCreate,
    InterpreterFilter,
    InterpreterRead,
    InterpreterUpdate,
)

router = APIRouter(prefix="/interpreters", tags=["interpreters"])


def _read(interpreter: Interpreter, access: bool) -> InterpreterRead:
    read = InterpreterRead.model_validate(interpreter)
    return read if access else read.model_copy(update=dict.fromkeys(PERSONAL_FIELDS))


@router.post("", **COMMAND)
async def register_interpreter(data: InterpreterCreate, command: Command) -> Accepted:
    event = await command.run(service.register_interpreter, data=data)
    return await command.accept(event, location=f"/interpreters/{event.aggregate_id}")


@router.patch("/{interpreter_id}", **COMMAND)
async def update_interpreter(
    interpreter_id: str, data: InterpreterUpdate, command: Command
) -> Accepted:
    event = await command.run(service.update_interpreter, interpreter_id=interpreter_id, data=data)
    return await command.accept(event, location=f"/interpreters/{interpreter_id}")


@router.delete("/{interpreter_id}/contact", **COMMAND)
async def erase_interpreter_contact(interpreter_id: str, command: Command) -> Accepted:
    """Erase the interpreter's contact (right to erasure), here and in the stored events."""
    event = await command.run(service.erase_interpreter_contact, interpreter_id=interpreter_id)
    return await command.accept(event, location=f"/interpreters/{interpreter_id}")


@router.get("/{interpreter_id}", response_model=InterpreterRead, **READ_ONE)
async def get_interpreter(
    interpreter_id: str, db_session: DbSession, access: PersonalDataAccess
) -> InterpreterRead:
    interpreter = await service.get_interpreter(
        db_session=db_session, interpreter_id=interpreter_id
    )
    if interpreter is None:
        raise NotFound("interpreter", interpreter_id)
    return _read(interpreter, access)


@router.get("", response_model=list[InterpreterRead])
async def list_interpreters(
    query: Annotated[InterpreterFilter, Query()], db_session: DbSession, access: PersonalDataAccess
) -> list[InterpreterRead]:
    found = await service.list_interpreters(db_session=db_session, query=query)
    return [_read(interpreter, access) for interpreter in found]
