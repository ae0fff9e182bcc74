"""Tables of the event backbone: the outbox, the archive of applied events (which is also the
ledger of what was applied: see `ArchivedEvent`), events parked until their aggregate exists,
dead letters, and the workers' heartbeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from twinning.db import Base, UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
Sequence = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    """An event committed together with the command that caused it, waiting for the relay."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Sequence, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    aggregate_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    publish_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_outbox_pending", "published_at", "id"),)


class ArchivedEvent(Base):
    """Every applied event, in the order it was applied: what `twinning rebuild` replays.

    It is the ledger too: its row is written in the transaction of every projector's change
    for the event (all of them or none), and an event id is archived at most once (unique), so
    an archived event was applied exactly once, and a redelivered one is a no-op. (Until
    migration `0030_ledger`, a `processed_events` table also held a row per projector and
    event, written in the same transaction: it said nothing the archive did not.)"""

    __tablename__ = "event_archive"

    seq: Mapped[int] = mapped_column(Sequence, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[int] = mapped_column(Integer)
    aggregate_id: Mapped[str] = mapped_column(String(100), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_by: Mapped[str | None] = mapped_column(String(200))  # which worker: host:pid


class ParkedEvent(Base):
    """A valid event that arrived before the aggregate it needs; applied when that appears."""

    __tablename__ = "parked_events"

    seq: Mapped[int] = mapped_column(Sequence, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    waits_for: Mapped[str] = mapped_column(String(100), index=True)
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    parked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeadLetter(Base):
    """A message the worker could not apply, with the reason; also sent to the dead-letter topic."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Sequence, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(100), index=True)
    topic: Mapped[str] = mapped_column(String(100))
    partition: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """Each worker's last sign of life, written every few seconds: what /health reads to say
    whether anything applies the commands the API accepts, and how far behind it is."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: Messages on its partitions that it has not read yet (None: not known yet).
    lag: Mapped[int | None] = mapped_column(BigInteger)
