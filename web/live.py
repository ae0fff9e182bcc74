"""Live updates for the web app's pages: server-sent events fed by what the worker applies."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
