"""press: press items (releases, interviews, articles, broadcasts) and what they cover

Revision ID: 0014_gifts_press
Revises: 0014_gifts_co_hosts
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0014_gifts_press"
down_revision: str | None = "0014_gifts_co_hosts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "press_items",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("outlet", sa.String(200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("title", twinning.db.JsonType, nullable=False),
        sa.Column("link", sa.String(2048), nullable=True),
        sa.Column("covers", twinning.db.JsonType, nullable=False),
        sa.Column("recorded_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_press_items_kind", "press_items", ["kind"])
    op.create_index("ix_press_items_date", "press_items", ["date"])


def downgrade() -> None:
    op.drop_index("ix_press_items_date", table_name="press_items")
    op.drop_index("ix_press_items_kind", table_name="press_items")
    op.drop_table("press_items")
