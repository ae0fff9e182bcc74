"""calendar entries, audiences and feed links

Revision ID: 0006_calendar
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_calendar"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("calendar",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_entries",
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("starts_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancelled_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "facts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_calendar_entries")),
    )
    with op.batch_alter_table("calendar_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_entries_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index("ix_calendar_entries_source", ["kind", "source_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_calendar_entries_starts_at"), ["starts_at"], unique=False
        )

    op.create_table(
        "calendar_feed_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("audience", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=8), nullable=False),
        sa.Column("created_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("rotated_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_links_token_hash")),
    )
    with op.batch_alter_table("calendar_feed_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_feed_links_audience"), ["audience"], unique=False
        )

    op.create_table(
        "calendar_feed_versions",
        sa.Column("audience", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("audience", name=op.f("pk_calendar_feed_versions")),
    )
    op.create_table(
        "calendar_audiences",
        sa.Column("entry_uid", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=120), nullable=False),
        sa.Column("removed_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_uid"],
            ["calendar_entries.uid"],
            name=op.f("fk_calendar_audiences_entry_uid_calendar_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_uid", "audience", name=op.f("pk_calendar_audiences")),
    )
    with op.batch_alter_table("calendar_audiences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_audiences_audience"), ["audience"], unique=False
        )

    op.create_table(
        "calendar_references",
        sa.Column("entry_uid", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_uid"],
            ["calendar_entries.uid"],
            name=op.f("fk_calendar_references_entry_uid_calendar_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_uid", "ref", name=op.f("pk_calendar_references")),
    )
    with op.batch_alter_table("calendar_references", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_references_ref"), ["ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calendar_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_references_ref"))

    op.drop_table("calendar_references")
    with op.batch_alter_table("calendar_audiences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_audiences_audience"))

    op.drop_table("calendar_audiences")
    op.drop_table("calendar_feed_versions")
    with op.batch_alter_table("calendar_feed_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feed_links_audience"))

    op.drop_table("calendar_feed_links")
    with op.batch_alter_table("calendar_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_entries_starts_at"))
        batch_op.drop_index("ix_calendar_entries_source")
        batch_op.drop_index(batch_op.f("ix_calendar_entries_ends_at"))

    op.drop_table("calendar_entries")
