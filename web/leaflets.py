"""Publicity in the web app: the leaflet and brochures per language, preview, PDF, versions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
