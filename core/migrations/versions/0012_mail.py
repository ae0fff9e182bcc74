"""mail: the mail outbox (each message an event caused, from queued to sent)

Revision ID: 0012_mail
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0012_mail"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("mail",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("cause_event_id", sa.String(100), nullable=False),
        sa.Column("about_id", sa.String(100), nullable=False),
        sa.Column("recipient_id", sa.String(100), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("rendered", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", twinning.db.UTCDateTime(timezone=True), nullable=True),
    )
    for column in (
        "kind",
        "cause_event_id",
        "about_id",
        "recipient_id",
        "state",
        "next_attempt_at",
    ):
        op.create_index(f"ix_mail_messages_{column}", "mail_messages", [column])


def downgrade() -> None:
    op.drop_table("mail_messages")
