"""invitations: the co-hosts of city events (partner cities or foreign missions)

Revision ID: 0014_gifts_co_hosts
Revises: 0014_gifts
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0014_gifts_co_hosts"
down_revision: str | None = "0014_gifts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0004_invitations"


def upgrade() -> None:
    with op.batch_alter_table("city_events") as city_events:
        city_events.add_column(sa.Column("co_hosts", twinning.db.JsonType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("city_events") as city_events:
        city_events.drop_column("co_hosts")
