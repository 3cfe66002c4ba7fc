"""the private-pool limit counts only the leads an agent is still working (crm/pools/ownership.py
`in_private_pool`): the owner's index carries the stage, so a claim's count of them stays
inside the index instead of visiting every lead the agent ever won

Built in the migration's transaction: `leads` is locked for writes while it builds (seconds
at a million leads).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 09:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_leads_owner_followup_stage", "leads", ["owner_id", "next_followup_at", "stage"]
    )
    op.drop_index("ix_leads_owner_next_followup", table_name="leads")


def downgrade() -> None:
    op.create_index("ix_leads_owner_next_followup", "leads", ["owner_id", "next_followup_at"])
    op.drop_index("ix_leads_owner_followup_stage", table_name="leads")
