"""audit chain: entry numbers, hashes and method; chain heads; daily anchors

Existing entries are chained in the order they were written (by id), each org's first one
following the genesis hash (64 zeros), exactly as crm/compliance/chain.py chains new ones;
their `method` stays empty (it was not recorded before).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-04 05:59:47.356428
"""

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

import crm.db
from crm.compliance.chain import GENESIS, entry_hash

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the columns the hash reads, typed as the models type them so values read back the same
audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger()),
    sa.column("org_id", sa.Integer()),
    sa.column("at", crm.db.UTCDateTime(timezone=True)),
    sa.column("user_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("lead_id", sa.BigInteger()),
    sa.column("fields", sa.JSON()),
    sa.column("purpose", sa.String()),
    sa.column("ip", sa.String()),
    sa.column("details", sa.JSON()),
    sa.column("method", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
audit_heads = sa.table(
    "audit_heads",
    sa.column("org_id", sa.Integer()),
    sa.column("seq", sa.BigInteger()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", crm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_audit_anchors_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
        sa.UniqueConstraint("org_id", "day", name=op.f("uq_audit_anchors_org_id_day")),
    )
    op.create_table(
        "audit_heads",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_audit_heads_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_audit_heads")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    _chain_existing_entries(op.get_bind())

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_log_org_id_seq"), ["org_id", "seq"])


def _chain_existing_entries(conn: sa.Connection) -> None:
    heads: dict[int, tuple[int, str]] = {}
    rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings().all()
    for row in rows:
        seq, prev_hash = heads.get(row["org_id"], (0, GENESIS))
        entry = SimpleNamespace(**{**row, "seq": seq + 1, "prev_hash": prev_hash})
        entry.hash = entry_hash(entry)
        conn.execute(
            sa.update(audit_log)
            .where(audit_log.c.id == row["id"])
            .values(seq=entry.seq, prev_hash=entry.prev_hash, hash=entry.hash)
        )
        heads[row["org_id"]] = (entry.seq, entry.hash)
    if heads:
        conn.execute(
            sa.insert(audit_heads),
            [{"org_id": org, "seq": seq, "hash": hash_} for org, (seq, hash_) in heads.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_log_org_id_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("method")

    op.drop_table("audit_heads")
    op.drop_table("audit_anchors")
