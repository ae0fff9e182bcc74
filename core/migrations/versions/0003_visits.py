"""delegation visits, their itineraries, officials and venues

Revision ID: 0003_visits
Revises: 0001
Create Date: 2026-11-26 04:59:58.075000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_visits"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("visits",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "officials",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column(
            "names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "title",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("protocol_rank", sa.Integer(), nullable=False),
        sa.Column("registered_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officials")),
    )
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_officials_protocol_rank"), ["protocol_rank"], unique=False
        )

    op.create_table(
        "venues",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column(
            "names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("registered_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("partner_id", sa.String(length=100), nullable=True),
        sa.Column("mission_id", sa.String(length=100), nullable=True),
        sa.Column(
            "organisation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "head_of_delegation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("requested_from", sa.Date(), nullable=False),
        sa.Column("requested_to", sa.Date(), nullable=False),
        sa.Column(
            "languages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=False),
        sa.Column("dietary_notes", sa.Text(), nullable=True),
        sa.Column("accessibility_notes", sa.Text(), nullable=True),
        sa.Column(
            "contact",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("exchange_id", sa.String(length=100), nullable=True),
        sa.Column("requested_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visits_mission_id"), ["mission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_visits_requested_from"), ["requested_from"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visits_status"), ["status"], unique=False)

    op.create_table(
        "itinerary_items",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("visit_id", sa.String(length=100), nullable=False),
        sa.Column("starts_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("venue_id", sa.String(length=100), nullable=True),
        sa.Column(
            "place",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "interpreter",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("gift_exchange", sa.Text(), nullable=True),
        sa.Column("press", sa.Boolean(), nullable=False),
        sa.Column(
            "titles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("notes_shared", sa.Text(), nullable=True),
        sa.Column(
            "overrides",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.Column("added_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_itinerary_items_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_itinerary_items")),
    )
    with op.batch_alter_table("itinerary_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_itinerary_items_starts_at"), ["starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_itinerary_items_venue_id"), ["venue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_itinerary_items_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "visit_status_changes",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("visit_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_visit_status_changes_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_visit_status_changes")),
    )
    with op.batch_alter_table("visit_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visit_status_changes_visit_id"), ["visit_id"], unique=False
        )

    op.create_table(
        "itinerary_attendance",
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("official_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["itinerary_items.id"],
            name=op.f("fk_itinerary_attendance_item_id_itinerary_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "official_id", name=op.f("pk_itinerary_attendance")),
    )
    with op.batch_alter_table("itinerary_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_itinerary_attendance_official_id"), ["official_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("itinerary_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_itinerary_attendance_official_id"))

    op.drop_table("itinerary_attendance")
    with op.batch_alter_table("visit_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_status_changes_visit_id"))

    op.drop_table("visit_status_changes")
    with op.batch_alter_table("itinerary_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_itinerary_items_visit_id"))
        batch_op.drop_index(batch_op.f("ix_itinerary_items_venue_id"))
        batch_op.drop_index(batch_op.f("ix_itinerary_items_starts_at"))

    op.drop_table("itinerary_items")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_status"))
        batch_op.drop_index(batch_op.f("ix_visits_requested_from"))
        batch_op.drop_index(batch_op.f("ix_visits_partner_id"))
        batch_op.drop_index(batch_op.f("ix_visits_mission_id"))

    op.drop_table("visits")
    op.drop_table("venues")
    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officials_protocol_rank"))

    op.drop_table("officials")
