"""The CRM read model, kept by the CRM projector from partner events."""

from __future__ import annotations

from datetime import date, datetime

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
    #: `{"latitude": ..., "longitude": ...}`, for the partner map (column added by 0007_publicity).
    location: Mapped[dict[str, float] | None] = mapped_column(JsonType)
    #: Inhabitants (column added by 0022_partner_population).
    population: Mapped[int | None] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class ForeignMission(Base):
    """A foreign mission in the host country, with the country it represents."""

    __tablename__ = "foreign_missions"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JsonType)
    country: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    address: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    website: Mapped[str | None] = mapped_column(String(2048))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class Contact(Base):
    """A person at a partner city or a foreign mission. Personal data: served only to callers
    with personal-data access, and deleted (not flagged) when the contact is erased."""

    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    partner_id: Mapped[str | None] = mapped_column(String(100), index=True)
    mission_id: Mapped[str | None] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str | None] = mapped_column(String(35))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class Exchange(Base):
    """The exchange history: one row per recorded exchange."""

    __tablename__ = "exchanges"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    field: Mapped[str] = mapped_column(String(30), index=True)
    direction: Mapped[str] = mapped_column(String(20))
    summary: Mapped[dict[str, str]] = mapped_column(JsonType)
    partner_ids: Mapped[list[str]] = mapped_column(JsonType)
    participants: Mapped[int | None] = mapped_column(Integer)
    source_kind: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Foreign missions and other organisations as counterparts (columns added by 0014_gifts).
    mission_ids: Mapped[list[str] | None] = mapped_column(JsonType)
    organisations: Mapped[list[dict[str, str]] | None] = mapped_column(JsonType)


class ExchangeMission(Base):
    """Which foreign missions took part in which exchange: their own figures read it."""

    __tablename__ = "exchange_missions"

    exchange_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    mission_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    date: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(30))


class ExchangePartner(Base):
    """Which partners took part in which exchange: what filters and per-partner figures use."""

    __tablename__ = "exchange_partners"

    exchange_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    date: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(30))


class PartnerActivity(Base):
    """Derived per partner: how many exchanges, and the date of the last one."""

    __tablename__ = "partner_activity"

    partner_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    exchanges: Mapped[int] = mapped_column(Integer)
    last_exchange_date: Mapped[date] = mapped_column(Date)


class PartnerExchangeCount(Base):
    """Derived per partner: the number of exchanges in each field and year."""

    __tablename__ = "partner_exchange_counts"

    partner_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    field: Mapped[str] = mapped_column(String(30), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
