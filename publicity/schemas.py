"""What the publicity API returns besides the documents themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class VersionSummary(BaseModel):
    number: int = Field(description="1 for the first version in this language, then 2, 3, ...")
    created_at: datetime
    content_hash: str = Field(description="SHA-256 of what the version shows.")
    pdf_bytes: int


class VersionRead(VersionSummary):
    html_url: str
    pdf_url: str
    print_url: str | None = Field(
        default=None,
        description="The PDF for a print shop (PDF/X-4, bleed, crop marks); leaflets and "
        "brochures only (a briefing book is not printed by a print shop).",
    )


class VersionList(BaseModel):
    document: str = Field(description="`leaflet`, or `brochure:<partner id>`.")
    locale: str
    versions: list[VersionRead] = Field(description="Newest first.")


class CityProfileRead(BaseModel):
    """Our city's profile as the leaflet and the brochures print it."""

    about: dict[str, str] = Field(description="The paragraph about the city, by language.")
    figures: list[dict[str, Any]] = Field(
        description='The key figures in order: each `{"label": {language: text}, "value"}`.'
    )
    updated_at: datetime
    updated_by: str
