"""Exchanges and trips abroad in the web app: lists and forms; trip legs across time zones."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
