"""publicity: photos of our city, partner cities, exchanges and visits for the leaflet and the
brochures (the read model, and the cleaned bytes named by their SHA-256)

Revision ID: 0022_photos
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0022_photos"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("photos",)
depends_on: str | Sequence[str] | None = "0021_profile"


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("subject_kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("partner_ids", twinning.db.JsonType, nullable=False),
        sa.Column("file", twinning.db.JsonType, nullable=False),
        sa.Column("caption", twinning.db.JsonType, nullable=False),
        sa.Column("alt", twinning.db.JsonType, nullable=False),
        sa.Column("attached_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attached_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_photos_subject", "photos", ["subject_kind", "subject_id"])
    op.create_table(
        "photo_images",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("document_jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("photo_images")
    op.drop_index("ix_photos_subject", table_name="photos")
    op.drop_table("photos")
