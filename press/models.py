"""The press read model, kept by the press projector."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, JsonType, UTCDateTime


class PressItem(Base):
    __tablename__ = "press_items"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    outlet: Mapped[str] = mapped_column(String(200))
    date: Mapped[date] = mapped_column(Date, index=True)
    language: Mapped[str] = mapped_column(String(35))
    title: Mapped[dict[str, str]] = mapped_column(JsonType)
    link: Mapped[str | None] = mapped_column(String(2048))
    #: What it covers: `[{"kind": "visit" | "city-event" | "trip" | "exchange", "id": ...}]`.
    covers: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
