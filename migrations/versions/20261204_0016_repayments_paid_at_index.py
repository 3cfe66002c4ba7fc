"""repayments by payment time: the loan book on a past date reads the repayments paid since
(crm/reports/loan_book.py), which scanned the whole table

Built in the migration's transaction, not CONCURRENTLY (which cannot run in one): the table is
locked for writes while it builds.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_repayments_paid_at", "repayments", ["paid_at", "org_id"])


def downgrade() -> None:
    op.drop_index("ix_repayments_paid_at", table_name="repayments")
