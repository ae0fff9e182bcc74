"""visits: talking points of a visit and of its itinerary items (for the briefing book)

Revision ID: 0016_briefing
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_briefing"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("briefing",)
depends_on: str | Sequence[str] | None = "0003_visits"


def upgrade() -> None:
    op.add_column("visits", sa.Column("talking_points", sa.Text(), nullable=True))
    op.add_column("itinerary_items", sa.Column("talking_points", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("itinerary_items") as batch:
        batch.drop_column("talking_points")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("talking_points")
