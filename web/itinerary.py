"""A visit's itinerary in the web app: the editor (add, change, remove; a venue or an outside
place; officials, interpreter, gift, press), conflicts shown inline with the override, completing
a visit with its exchange, and the day's programme, printable."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
