"""publicity: when a reader asked for a document that waited to be looked at

A document asked for (its latest version read through the API) while it is stale is looked at
before the others that wait (`asked_at`, set by the API, cleared by the renderer's look).

Revision ID: 0031_publicity_asks
Revises: 0008_publicity_claims
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0031_publicity_asks"
down_revision: str | None = "0008_publicity_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publicity_documents") as table:
        table.add_column(
            sa.Column("asked_at", twinning.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("publicity_documents") as table:
        table.drop_column("asked_at")
