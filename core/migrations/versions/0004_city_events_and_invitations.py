"""city events and invitations

Revision ID: 0004_invitations
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_invitations"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("invitations",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "city_events",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "title",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "description",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("starts_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("venue_id", sa.String(length=100), nullable=True),
        sa.Column("venue_place", sa.Text(), nullable=True),
        sa.Column("video_link", sa.String(length=2048), nullable=True),
        sa.Column("open_to_partners", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("exchange_field", sa.String(length=30), nullable=True),
        sa.Column(
            "exchange_summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("exchange_id", sa.String(length=100), nullable=True),
        sa.Column("scheduled_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_events")),
    )
    with op.batch_alter_table("city_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_city_events_end_date"), ["end_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_city_events_start_date"), ["start_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_city_events_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_city_events_status"), ["status"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("city_event_id", sa.String(length=100), nullable=False),
        sa.Column("invitee_kind", sa.String(length=20), nullable=False),
        sa.Column("invitee_id", sa.String(length=100), nullable=False),
        sa.Column("answer_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("answer", sa.String(length=30), nullable=False),
        sa.Column("delegates", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("received_via", sa.String(length=20), nullable=True),
        sa.Column("answered_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invited_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_event_id"],
            ["city_events.id"],
            name=op.f("fk_invitations_city_event_id_city_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitations_city_event_id"), ["city_event_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invitations_invitee_id"), ["invitee_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_invitee_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_city_event_id"))

    op.drop_table("invitations")
    with op.batch_alter_table("city_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_city_events_status"))
        batch_op.drop_index(batch_op.f("ix_city_events_starts_at"))
        batch_op.drop_index(batch_op.f("ix_city_events_start_date"))
        batch_op.drop_index(batch_op.f("ix_city_events_end_date"))

    op.drop_table("city_events")
