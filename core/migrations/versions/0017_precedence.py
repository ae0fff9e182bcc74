"""visits: officials' forms of address, per language (precedence and forms of address)

Revision ID: 0017_precedence
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0017_precedence"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("precedence",)
depends_on: str | Sequence[str] | None = "0003_visits"


def upgrade() -> None:
    with op.batch_alter_table("officials") as officials:
        officials.add_column(sa.Column("forms_of_address", twinning.db.JsonType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("officials") as officials:
        officials.drop_column("forms_of_address")
