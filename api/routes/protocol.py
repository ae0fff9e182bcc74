"""The office's registers of officials and venues: what itineraries book."""

from __future__ import annotations

from fastapi import APIRouter
from twinning.api.common import Register, register_routes
from twinning.db import Page
from twinning.visits import service
from twinning.visits.schemas import (
    OfficialCreate,
    OfficialRead,
    OfficialUpdate,
    VenueCreate,
    VenueRead,
    VenueUpdate,
)

officials = APIRouter(prefix="/officials", tags=["officials"])
venues = APIRouter(prefix="/venues", tags=["venues"])

register_routes(
    officials,
    service,
    Register(OfficialCreate, OfficialUpdate, OfficialRead, Page),
    kind="official",
)
register_routes(venues, service, Register(VenueCreate, VenueUpdate, VenueRead, Page), kind="venue")
