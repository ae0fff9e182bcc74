"""The press projector: keeps `press_items` from the press events on `twinning.exchanges`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from twinning.press.models import PressItem
from twinning.streams.events import Event, PressItemRecorded, PressItemUpdated
from twinning.streams.projection import Park, Projector

projector = Projector("press", tables=[PressItem])


def _apply(item: PressItem, facts: PressItemRecorded | PressItemUpdated, changed: set[str]) -> None:
    values = facts.model_dump(mode="json")
    for name in ("kind", "outlet", "language", "link", "covers"):
        if name in changed:
            setattr(item, name, values[name])
    if "date" in changed and facts.date is not None:
        item.date = facts.date
    if "title" in changed:
        item.title = {**(item.title or {}), **values["title"]}


@projector.on(PressItemRecorded)
async def press_item_recorded(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PressItemRecorded)
    item = await session.get(PressItem, event.aggregate_id)
    if item is None:
        item = PressItem(id=event.aggregate_id, version=0, title={})
        session.add(item)
    item.title = {}
    item.recorded_at = item.updated_at = event.occurred_at
    item.version += 1
    _apply(item, event.payload, set(PressItemRecorded.model_fields))


@projector.on(PressItemUpdated)
async def press_item_updated(session: AsyncSession, event: Event) -> None:
    assert isinstance(event.payload, PressItemUpdated)
    item = await session.get(PressItem, event.aggregate_id)
    if item is None:
        raise Park(event.aggregate_id, f"press item {event.aggregate_id} is not recorded yet")
    item.updated_at = max(item.updated_at, event.occurred_at)
    item.version += 1
    _apply(item, event.payload, set(event.payload.model_fields_set))
