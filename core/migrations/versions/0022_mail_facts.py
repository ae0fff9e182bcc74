"""mail: what a message is about as it was when it was queued (a trip leg dropped from its trip
is gone by the time its notice is sent)

Revision ID: 0022_mail_facts
Revises: 0012_mail
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0022_mail_facts"
down_revision: str | None = "0012_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_messages") as mail_messages:
        mail_messages.add_column(sa.Column("facts", twinning.db.JsonType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mail_messages") as mail_messages:
        mail_messages.drop_column("facts")
