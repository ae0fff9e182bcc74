"""letters: the versions of the letter templates; the delegates listed in an answer

Revision ID: 0019_letters
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0019_letters"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("letters",)
depends_on: str | Sequence[str] | None = "0004_invitations"


def upgrade() -> None:
    op.create_table(
        "letter_template_versions",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("locale", sa.String(35), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(200), nullable=False),
        sa.Column("saved_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
    )
    op.add_column("invitations", sa.Column("delegate_details", twinning.db.JsonType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("delegate_details")
    op.drop_table("letter_template_versions")
