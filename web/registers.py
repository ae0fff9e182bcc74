"""The registers in the web app: foreign missions and contacts (list, detail, create, edit,
erasure), and the forms that create and edit partner cities."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ui", include_in_schema=False)
