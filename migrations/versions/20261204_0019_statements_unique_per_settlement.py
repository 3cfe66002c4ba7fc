"""a payee's statement is unique per settlement (one org's month), not per month over every
org: a person who sold loans of two orgs in one month (an HQ manager working a partner's lead)
made the second org's settlement fail on every run, so that month never settled

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("commission_statements", schema=None) as batch_op:
        batch_op.drop_constraint("uq_commission_statements_period_payee_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_commission_statements_settlement_id_payee_key", ["settlement_id", "payee_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("commission_statements", schema=None) as batch_op:
        batch_op.drop_constraint("uq_commission_statements_settlement_id_payee_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_commission_statements_period_payee_key", ["period", "payee_key"]
        )
