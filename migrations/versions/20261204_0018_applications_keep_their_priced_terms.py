"""an application keeps the repayment method and lender fees it was last priced with (created,
edited, approved): the contract states them and the loan is paid out on them, whatever the
product says later. Applications already stored take their product's terms as they are now,
the best there is to go on (a loan already paid out has its own repayment method).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

applications = sa.table(
    "applications",
    sa.column("product_id", sa.Integer),
    sa.column("repayment_method", sa.String),
    sa.column("lender_fees", sa.JSON),
)
products = sa.table(
    "products",
    sa.column("id", sa.Integer),
    sa.column("repayment_method", sa.String),
    sa.column("fees", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repayment_method", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lender_fees", sa.JSON(), nullable=True))
    product = products.c.id == applications.c.product_id
    op.execute(
        applications.update().values(
            repayment_method=sa.select(products.c.repayment_method)
            .where(product)
            .scalar_subquery(),
            lender_fees=sa.select(products.c.fees).where(product).scalar_subquery(),
        )
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.alter_column(
            "repayment_method", existing_type=sa.String(length=32), nullable=False
        )
        batch_op.alter_column("lender_fees", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("lender_fees")
        batch_op.drop_column("repayment_method")
