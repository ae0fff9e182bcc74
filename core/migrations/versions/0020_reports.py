"""plans: a KPI fact per (event, measure, subject), so that one event may count in several
measures (a completed trip: a trip abroad, and a visit to each partner city it went to)

Revision ID: 0020_reports
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_reports"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("reports",)
depends_on: str | Sequence[str] | None = "0015_plans"


def upgrade() -> None:
    with op.batch_alter_table("kpi_facts") as batch:
        batch.drop_constraint("pk_kpi_facts", type_="primary")
        batch.create_primary_key("pk_kpi_facts", ["event_id", "measure", "subject"])


def downgrade() -> None:
    # Facts beyond the first of an event would break the old key: keep the event's first.
    op.execute(
        "DELETE FROM kpi_facts WHERE EXISTS (SELECT 1 FROM kpi_facts AS f"
        " WHERE f.event_id = kpi_facts.event_id"
        " AND (f.measure, f.subject) < (kpi_facts.measure, kpi_facts.subject))"
    )
    with op.batch_alter_table("kpi_facts") as batch:
        batch.drop_constraint("pk_kpi_facts", type_="primary")
        batch.create_primary_key("pk_kpi_facts", ["event_id"])
