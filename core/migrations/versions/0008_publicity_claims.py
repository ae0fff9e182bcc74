"""publicity: a renderer's claim on a document, so that two workers never render the same one

Revision ID: 0008_publicity_claims
Revises: 0007_publicity
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0008_publicity_claims"
down_revision: str | None = "0007_publicity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publicity_documents") as table:
        table.add_column(
            sa.Column("claimed_until", twinning.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("publicity_documents") as table:
        table.drop_column("claimed_until")
