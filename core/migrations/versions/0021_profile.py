"""publicity: our city's profile (a paragraph in several languages and key figures) for the
leaflet and the brochures

Revision ID: 0021_profile
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0021_profile"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("profile",)
depends_on: str | Sequence[str] | None = "0008_publicity_claims"


def upgrade() -> None:
    op.create_table(
        "city_profile",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("about", twinning.db.JsonType, nullable=False),
        sa.Column("figures", twinning.db.JsonType, nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("city_profile")
