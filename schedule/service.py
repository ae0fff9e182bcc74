"""The interpreter roster's commands and queries, and what language pairs a visit's items
need (from the delegation's languages and the office's) and whether they are covered."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twinning.refusals import NotFound
from twinning.schedule.models import BookingOverride, Interpreter
from twinning.schedule.schemas import (
    InterpreterCreate,
    InterpreterFilter,
    InterpreterUpdate,
    ItemCoverage,
    PairCoverage,
)
from twinning.streams import outbox
from twinning.streams.events import Event, InterpreterContactErased
from twinning.visits.models import ItineraryItem, Visit


async def _existing(db_session: AsyncSession, interpreter_id: str) -> Interpreter:
    await outbox.settle(db_session, aggregate_ids=[interpreter_id])
    interpreter = await db_session.get(Interpreter, interpreter_id)
    if interpreter is None:
        raise NotFound("interpreter", interpreter_id)
    return interpreter


async def register_interpreter(
    *, db_session: AsyncSession, data: InterpreterCreate, actor: str
) -> Event:
    return outbox.record(db_session, data, actor=actor)


async def update_interpreter(
    *, db_session: AsyncSession, interpreter_id: str, data: InterpreterUpdate, actor: str
) -> Event:
    await _existing(db_session, interpreter_id)
    return outbox.record(db_session, data, aggregate_id=interpreter_id, actor=actor)


async def erase_interpreter_contact(
    *, db_session: AsyncSession, interpreter_id: str, actor: str
) -> Event:
    await _existing(db_session, interpreter_id)
    erased = InterpreterContactErased()
    return outbox.record(db_session, erased, aggregate_id=interpreter_id, actor=actor)


async def get_interpreter(*, db_session: AsyncSession, interpreter_id: str) -> Interpreter | None:
    return await db_session.get(Interpreter, interpreter_id)


async def list_interpreters(
    *, db_session: AsyncSession, query: InterpreterFilter
) -> Sequence[Interpreter]:
    found = select(Interpreter).order_by(Interpreter.name, Interpreter.id)
    interpreters = (await db_session.scalars(found)).all()
    if query.language is not None:  # a JSON list: filtered here, portable across databases
        wanted = query.language.lower()
        interpreters = [
            i
            for i in interpreters
            if any(wanted in (p["source"].lower(), p["target"].lower()) for p in i.language_pairs)
        ]
    return interpreters[query.offset : query.offset + query.limit]


async def interpreters_named(
    *, db_session: AsyncSession, interpreter_ids: Iterable[str]
) -> dict[str, Interpreter]:
    ids = set(interpreter_ids)
    if not ids:
        return {}
    found = await db_session.scalars(select(Interpreter).where(Interpreter.id.in_(ids)))
    return {i.id: i for i in found}


async def list_overrides(
    *, db_session: AsyncSession, kind: str, source_id: str
) -> Sequence[BookingOverride]:
    query = (
        select(BookingOverride)
        .where(BookingOverride.kind == kind, BookingOverride.source_id == source_id)
        .order_by(BookingOverride.occurred_at, BookingOverride.event_id)
    )
    return (await db_session.scalars(query)).all()


def _base(tag: str) -> str:
    return tag.split("-")[0].lower()


def _speaks(tag: str, language: str) -> bool:
    """Whether a pair's language `tag` serves `language` (zh-TW serves zh-TW; ja serves ja-JP)."""
    return tag.lower() == language.lower() or (
        _base(tag) == _base(language) and "-" not in tag and _base(language) != "zh"
    )


def needed_pairs(delegation: Sequence[str], office: Sequence[str]) -> list[tuple[str, str]]:
    """The directions a meeting needs interpreted: both ways between each language of the
    delegation that the office does not speak and the office's first language."""
    if not office:
        return []
    home = office[0]
    foreign = [
        language
        for language in dict.fromkeys(delegation)
        if not any(_speaks(language, own) or _speaks(own, language) for own in office)
    ]
    return [pair for language in foreign for pair in ((home, language), (language, home))]


def coverage(
    item: ItineraryItem,
    visit: Visit,
    interpreters: dict[str, Interpreter],
    office_languages: Sequence[str],
) -> ItemCoverage:
    """Which pairs the item needs, and which of its booked interpreters cover each."""
    needs = []
    for source, target in needed_pairs(visit.languages, office_languages):
        covering = [
            interpreter_id
            for interpreter_id in item.interpreter_ids
            if (interpreter := interpreters.get(interpreter_id)) is not None
            and any(
                _speaks(p["source"], source) and _speaks(p["target"], target)
                for p in interpreter.language_pairs
            )
        ]
        needs.append(PairCoverage(source=source, target=target, covered_by=covering))
    return ItemCoverage(item_id=item.id, interpreter_ids=item.interpreter_ids, needs=needs)
