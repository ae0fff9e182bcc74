"""streams: the per-projector ledger (`processed_events`) goes; the archive is the ledger

Every applied event has its archive row (`event_archive`, unique by event id), written in the
transaction of every projector's change for it: the ledger's rows, one per projector and event
in that same transaction, said nothing the archive did not, and nothing read them. A
downgrade makes the table again, empty (the code of that time only wrote it, and emptied it
in a rebuild).

Revision ID: 0030_ledger
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0030_ledger"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("ledger",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("processed_events")


def downgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("projector", sa.String(length=50), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("processed_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("projector", "event_id", name=op.f("pk_processed_events")),
    )
