"""streams: the workers' heartbeats (what /health reads to report the worker and its lag)

Revision ID: 0010_worker_heartbeats
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0010_worker_heartbeats"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("workers",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(200), primary_key=True),
        sa.Column("started_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lag", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_worker_heartbeats_beat_at", "worker_heartbeats", ["beat_at"])


def downgrade() -> None:
    op.drop_index("ix_worker_heartbeats_beat_at", table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
