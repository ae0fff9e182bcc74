"""schedule: the interpreter roster, interpreters booked for city events, the officials
attending city events, and the overrides city events and trips were booked with (the
interpreters of itinerary items: 0013_schedule_items)

Revision ID: 0013_schedule
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_schedule"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("schedule",)
depends_on: str | Sequence[str] | None = "0004_invitations"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def booked(table: str, parent: str, parent_table: str, column: str) -> None:
    """A row per official or interpreter a booking holds (for conflict checks and feeds)."""
    op.create_table(
        table,
        sa.Column(parent, sa.String(length=100), nullable=False),
        sa.Column(column, sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            [parent],
            [f"{parent_table}.id"],
            name=op.f(f"fk_{table}_{parent}_{parent_table}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(parent, column, name=op.f(f"pk_{table}")),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "interpreters",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language_pairs", JSON, nullable=False),
        sa.Column("engagement", sa.String(length=20), nullable=False),
        sa.Column("contact", JSON, nullable=True),
        sa.Column("contact_erased_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("registered_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interpreters")),
    )
    op.create_table(
        "booking_overrides",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("conflicts", JSON, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_booking_overrides")),
    )
    with op.batch_alter_table("booking_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_overrides_source_id"), ["source_id"])
    booked("city_event_attendance", "city_event_id", "city_events", "official_id")
    booked("city_event_interpreters", "city_event_id", "city_events", "interpreter_id")


def downgrade() -> None:
    for table in ("city_event_interpreters", "city_event_attendance"):
        op.drop_table(table)
    op.drop_table("booking_overrides")
    op.drop_table("interpreters")
