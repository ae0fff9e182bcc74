"""CRM: foreign missions, contacts, exchange history and derived figures; trips abroad

Revision ID: 0002_crm
Revises: 0001
Create Date: 2026-11-26 05:01:38.011946
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_crm"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("crm",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("partner_id", sa.String(length=100), nullable=True),
        sa.Column("mission_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("preferred_language", sa.String(length=35), nullable=True),
        sa.Column("registered_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_mission_id"), ["mission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "exchange_partners",
        sa.Column("exchange_id", sa.String(length=100), nullable=False),
        sa.Column("partner_id", sa.String(length=100), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("exchange_id", "partner_id", name=op.f("pk_exchange_partners")),
    )
    with op.batch_alter_table("exchange_partners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_partners_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "exchanges",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "partner_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("source_kind", sa.String(length=20), nullable=True),
        sa.Column("source_id", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
    )
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchanges_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchanges_field"), ["field"], unique=False)

    op.create_table(
        "foreign_missions",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column(
            "names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column(
            "address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column("registered_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreign_missions")),
    )
    with op.batch_alter_table("foreign_missions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_foreign_missions_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_foreign_missions_kind"), ["kind"], unique=False)

    op.create_table(
        "partner_activity",
        sa.Column("partner_id", sa.String(length=100), nullable=False),
        sa.Column("exchanges", sa.Integer(), nullable=False),
        sa.Column("last_exchange_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_activity")),
    )
    op.create_table(
        "partner_exchange_counts",
        sa.Column("partner_id", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=30), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "partner_id", "year", "field", name=op.f("pk_partner_exchange_counts")
        ),
    )
    op.create_table(
        "trip_legs",
        sa.Column("trip_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "city",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "partner_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "itinerary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("trip_id", "position", name=op.f("pk_trip_legs")),
    )
    op.create_table(
        "trips",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column(
            "title",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "officials",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "international_event",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("planned_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("exchange_id", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trips")),
    )
    with op.batch_alter_table("trips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trips_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trips_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trips_status"))
        batch_op.drop_index(batch_op.f("ix_trips_starts_at"))

    op.drop_table("trips")
    op.drop_table("trip_legs")
    op.drop_table("partner_exchange_counts")
    op.drop_table("partner_activity")
    with op.batch_alter_table("foreign_missions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_foreign_missions_kind"))
        batch_op.drop_index(batch_op.f("ix_foreign_missions_country"))

    op.drop_table("foreign_missions")
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchanges_field"))
        batch_op.drop_index(batch_op.f("ix_exchanges_date"))

    op.drop_table("exchanges")
    with op.batch_alter_table("exchange_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_partners_partner_id"))

    op.drop_table("exchange_partners")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_partner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_mission_id"))

    op.drop_table("contacts")
