"""The plans read model, kept by the plans projector."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, JsonType, UTCDateTime


class Plan(Base):
    """A year's plan; its id is its year."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[dict[str, str]] = mapped_column(JsonType)
    adopted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class PlanGoal(Base):
    __tablename__ = "plan_goals"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[dict[str, str]] = mapped_column(JsonType)


class PlanWorkItem(Base):
    """A work item and its budget line (kept in NT$, shown in NT$ thousand)."""

    __tablename__ = "plan_work_items"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    goal_key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[dict[str, str]] = mapped_column(JsonType)
    description: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    section: Mapped[str] = mapped_column(String(200))
    budget_ntd: Mapped[int] = mapped_column(BigInteger)


class PlanKpi(Base):
    __tablename__ = "plan_kpis"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    work_item_key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[dict[str, str]] = mapped_column(JsonType)
    unit: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    target: Mapped[float] = mapped_column(Float)
    #: How it is computed (`KpiComputation` as JSON); None for a KPI staff enter.
    computed: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class PlanSpending(Base):
    """Money spent against a work item's budget line; one row per event."""

    __tablename__ = "plan_spending"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    work_item_key: Mapped[str] = mapped_column(String(40))
    date: Mapped[date] = mapped_column(Date)
    amount_ntd: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class PlanKpiValue(Base):
    """A value staff entered for a KPI; one row per event (the latest dated counts)."""

    __tablename__ = "plan_kpi_values"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    kpi_key: Mapped[str] = mapped_column(String(40))
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class KpiFact(Base):
    """One applied event a computed KPI may count, with what its filters look at: an index of
    the event archive, written when the event is applied and never changed after, so that a
    figure as of a past date is the same whenever it is asked for."""

    __tablename__ = "kpi_facts"

    #: An event may count in several measures (a completed trip: a trip abroad, and a visit
    #: to each partner city it went to): one fact per measure and subject.
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    measure: Mapped[str] = mapped_column(String(30), primary_key=True, index=True)
    #: What the fact is about (a visit, an exchange, an invitation): its latest fact counts.
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The day it is dated (an exchange's date...); None: the day it was recorded, office time.
    day: Mapped[date | None] = mapped_column(Date)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The participants or delegates a KPI may sum.
    value: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType)
    #: What the drill-down shows of it: a title by language, and the record it links to.
    label: Mapped[dict[str, str]] = mapped_column(JsonType)
    link: Mapped[str | None] = mapped_column(String(300))
