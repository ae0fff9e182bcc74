"""schedule: the interpreters booked for itinerary items (after the visits' tables: Alembic
takes one `depends_on` per revision here, so the schedule's migration is two)

Revision ID: 0013_schedule_items
Revises: 0013_schedule
Create Date: 2026-12-06
"""

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0013_schedule_items"
down_revision: str | None = "0013_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003_visits"


def upgrade() -> None:
    schedule = importlib.import_module("twinning.migrations.versions.0013_schedule")
    schedule.booked("itinerary_interpreters", "item_id", "itinerary_items", "interpreter_id")


def downgrade() -> None:
    op.drop_table("itinerary_interpreters")
