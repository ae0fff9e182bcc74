"""publicity: stale marks of the leaflets and brochures, their rendered versions, and the
partner cities' optional location (for the partner map)

Revision ID: 0007_publicity
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import twinning.db
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_publicity"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("publicity",)
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "publicity_documents",
        sa.Column("document", sa.String(length=120), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("marked_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_generation", sa.Integer(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("document", "locale", name=op.f("pk_publicity_documents")),
    )
    op.create_table(
        "publicity_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("document", sa.String(length=120), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", twinning.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publicity_versions")),
        sa.UniqueConstraint("document", "locale", "number", name="uq_publicity_versions_number"),
    )
    op.create_index("ix_publicity_versions_document", "publicity_versions", ["document", "locale"])
    with op.batch_alter_table("partner_cities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partner_cities", schema=None) as batch_op:
        batch_op.drop_column("location")
    op.drop_index("ix_publicity_versions_document", table_name="publicity_versions")
    op.drop_table("publicity_versions")
    op.drop_table("publicity_documents")
