"""auth: a password per user (argon2 hash) for the staff web app's sign-in

Revision ID: 0009_user_passwords
Revises: 0005_auth
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0009_user_passwords"
down_revision: str | None = "0005_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
        table.add_column(
            sa.Column("password_set_at", twinning.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("password_set_at")
        table.drop_column("password_hash")
