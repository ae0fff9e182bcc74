"""What the interpreters API accepts and returns, and a visit's language coverage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from twinning.db import Page
from twinning.streams.events import InterpreterRegistered, InterpreterUpdated

# A command carries exactly what its event carries: one definition, validated once.
InterpreterCreate = InterpreterRegistered
InterpreterUpdate = InterpreterUpdated

#: Personal data of an interpreter, left out of every answer to a caller without access to it.
PERSONAL_FIELDS = frozenset({"contact"})


class InterpreterFilter(Page):
    """In the order of their names."""

    language: str | None = Field(
        default=None, max_length=35, description="Only those who work from or into it."
    )


class InterpreterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    language_pairs: list[dict[str, str]]
    engagement: str
    contact: dict[str, Any] | None = Field(
        default=None, description="Personal data: only for staff with access to it."
    )
    contact_erased_at: datetime | None
    registered_at: datetime
    updated_at: datetime
    version: int


class PairCoverage(BaseModel):
    """A direction an item needs interpreted, and who of those booked covers it."""

    source: str
    target: str
    covered_by: list[str]


class ItemCoverage(BaseModel):
    item_id: str
    interpreter_ids: list[str]
    needs: list[PairCoverage]

    @property
    def covered(self) -> bool:
        return all(pair.covered_by for pair in self.needs)
