"""crm: a partner city's population (the brochures print it among the partner's figures)

Revision ID: 0022_partner_population
Revises: 0002_crm
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_partner_population"
down_revision: str | None = "0002_crm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partner_cities") as partner_cities:
        partner_cities.add_column(sa.Column("population", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partner_cities") as partner_cities:
        partner_cities.drop_column("population")
