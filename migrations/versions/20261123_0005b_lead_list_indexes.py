"""lead list indexes for 1M+ leads: filter column first, org_id next; sort orders with and
without org_id (HQ roles query every org); id completing each sort key; owner_id last, so an
agent's capped count is read from the index alone

Revision ID: 0005b
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005b"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, columns) replaced by this revision and what replaces them; see crm/leads/models.py
_DROPPED = [
    ("ix_leads_org_id_id_number_bidx", ["org_id", "id_number_bidx"]),
    ("ix_leads_org_id_name_bidx", ["org_id", "name_bidx"]),
    ("ix_leads_org_created", ["org_id", "created_at"]),
    ("ix_leads_org_owner_created", ["org_id", "owner_id", "created_at"]),
    ("ix_leads_org_owner_score", ["org_id", "owner_id", "score"]),
    ("ix_leads_org_stage_created", ["org_id", "stage", "created_at"]),
    ("ix_leads_org_source_created", ["org_id", "source", "created_at"]),
    ("ix_leads_org_city_created", ["org_id", "city", "created_at"]),
]
_CREATED = [
    ("ix_leads_id_number_bidx_org", ["id_number_bidx", "org_id"]),
    ("ix_leads_name_bidx_org", ["name_bidx", "org_id"]),
    ("ix_leads_org_created_id", ["org_id", "created_at", "id", "owner_id"]),
    ("ix_leads_created_id", ["created_at", "id"]),
    ("ix_leads_org_score_id", ["org_id", "score", "id", "owner_id"]),
    ("ix_leads_score_id", ["score", "id"]),
    ("ix_leads_org_followup_id", ["org_id", "last_followup_at", "id", "owner_id"]),
    ("ix_leads_followup_id", ["last_followup_at", "id"]),
    ("ix_leads_stage_org_created", ["stage", "org_id", "created_at", "owner_id"]),
    ("ix_leads_city_org_created", ["city", "org_id", "created_at", "owner_id"]),
    ("ix_leads_source_city_score", ["source", "city", "score", "id", "org_id", "owner_id"]),
]


def upgrade() -> None:
    for name, _ in _DROPPED:
        op.drop_index(name, table_name="leads")
    for name, columns in _CREATED:
        op.create_index(name, "leads", columns)


def downgrade() -> None:
    for name, _ in _CREATED:
        op.drop_index(name, table_name="leads")
    for name, columns in _DROPPED:
        op.create_index(name, "leads", columns)
