"""visits: requests through the public form (flagged until accepted, rate-limited); officials'
email addresses for notices

Revision ID: 0018_outreach
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op

revision: str = "0018_outreach"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("outreach",)
depends_on: str | Sequence[str] | None = "0003_visits"


def upgrade() -> None:
    op.add_column("officials", sa.Column("email", sa.String(254), nullable=True))
    op.add_column("officials", sa.Column("language", sa.String(35), nullable=True))
    op.add_column(
        "visits",
        sa.Column("received_via", sa.String(10), nullable=False, server_default="staff"),
    )
    op.add_column(
        "visits", sa.Column("accepted_at", twinning.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("visits", sa.Column("accepted_by", sa.String(200), nullable=True))
    op.create_table(
        "visit_form_submissions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("email", sa.String(64), nullable=False),
        sa.Column("submitted_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_form_submissions")),
    )
    for column in ("source", "email", "submitted_at"):
        op.create_index(
            op.f(f"ix_visit_form_submissions_{column}"), "visit_form_submissions", [column]
        )


def downgrade() -> None:
    op.drop_table("visit_form_submissions")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("accepted_by")
        batch.drop_column("accepted_at")
        batch.drop_column("received_via")
    with op.batch_alter_table("officials") as batch:
        batch.drop_column("language")
        batch.drop_column("email")
