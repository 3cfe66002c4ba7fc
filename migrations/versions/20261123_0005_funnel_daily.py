"""funnel_daily: the funnel report's per-day pre-aggregate, filled from the leads already stored

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the application's crm/reports/funnel_daily.py may change after this migration.
# Days are China Standard Time (UTC+8).
DAY = {
    "postgresql": "(created_at AT TIME ZONE 'UTC' + interval '8 hours')::date",
    "sqlite": "date(created_at, '+8 hours')",
}


def upgrade() -> None:
    op.create_table(
        "funnel_daily",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("reached_rank", sa.SmallInteger(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_funnel_daily_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "org_id",
            "dimension",
            "day",
            "value",
            "reached_rank",
            "stage",
            name=op.f("pk_funnel_daily"),
        ),
    )
    day = DAY[op.get_bind().dialect.name]
    for dimension in ("source", "city"):
        op.execute(
            "INSERT INTO funnel_daily (org_id, dimension, day, value, reached_rank, stage, leads) "
            f"SELECT org_id, '{dimension}', {day}, coalesce({dimension}, ''), reached_rank, stage,"
            " count(*) FROM leads GROUP BY 1, 2, 3, 4, 5, 6"
        )


def downgrade() -> None:
    op.drop_table("funnel_daily")
