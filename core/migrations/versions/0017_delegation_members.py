"""visits: the members of a visiting delegation besides its head (personal data)

Revision ID: 0017_delegation_members
Revises: 0017_precedence
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0017_delegation_members"
down_revision: str | None = "0017_precedence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as visits:
        visits.add_column(sa.Column("delegation_members", twinning.db.JsonType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visits") as visits:
        visits.drop_column("delegation_members")
