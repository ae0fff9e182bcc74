"""gifts: the gifts register (read model) and the photos of gifts; foreign missions and
other organisations as counterparts of exchanges (crm)

Revision ID: 0014_gifts
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0014_gifts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("gifts",)
depends_on: str | Sequence[str] | None = "0002_crm"


def upgrade() -> None:
    op.create_table(
        "gifts",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("description", twinning.db.JsonType, nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("giver", twinning.db.JsonType, nullable=False),
        sa.Column("recipient", twinning.db.JsonType, nullable=False),
        sa.Column("counterpart_kind", sa.String(10), nullable=True),
        sa.Column("counterpart_id", sa.String(100), nullable=True),
        sa.Column("occasion_kind", sa.String(20), nullable=True),
        sa.Column("occasion_id", sa.String(100), nullable=True),
        sa.Column("estimated_value", sa.String(20), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("location", sa.String(20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("photo", twinning.db.JsonType, nullable=True),
        sa.Column("approved_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approval_note", sa.Text(), nullable=True),
        sa.Column("recorded_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for column in ("direction", "date", "counterpart_id", "occasion_id", "location"):
        op.create_index(f"ix_gifts_{column}", "gifts", [column])
    op.create_table(
        "gift_photos",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
    )

    with op.batch_alter_table("exchanges") as exchanges:
        exchanges.add_column(sa.Column("mission_ids", twinning.db.JsonType, nullable=True))
        exchanges.add_column(sa.Column("organisations", twinning.db.JsonType, nullable=True))
    op.create_table(
        "exchange_missions",
        sa.Column("exchange_id", sa.String(100), primary_key=True),
        sa.Column("mission_id", sa.String(100), primary_key=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("field", sa.String(30), nullable=False),
    )
    op.create_index("ix_exchange_missions_mission_id", "exchange_missions", ["mission_id"])


def downgrade() -> None:
    op.drop_index("ix_exchange_missions_mission_id", table_name="exchange_missions")
    op.drop_table("exchange_missions")
    with op.batch_alter_table("exchanges") as exchanges:
        exchanges.drop_column("organisations")
        exchanges.drop_column("mission_ids")
    op.drop_table("gift_photos")
    for column in ("direction", "date", "counterpart_id", "occasion_id", "location"):
        op.drop_index(f"ix_gifts_{column}", table_name="gifts")
    op.drop_table("gifts")
