"""The CRM read model, kept by the CRM projector from partner events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, JsonType, UTCDateTime


class PartnerCity(Base):
    __tablename__ = "partner_cities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JsonType)
    country: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    agreement_date: Mapped[date | None] = mapped_column(Date)
    agreement_scope: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    languages: Mapped[list[str]] = mapped_column(JsonType)
    website: Mapped[str | None] = mapped_column(String(2048))
    fields_of_cooperation: Mapped[list[str]] = mapped_column(JsonType)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    def to_dict(self) -> dict[str, Any]:
        return {c.key: getattr(self, c.key) for c in self.__table__.columns}
