"""The audit log: append-only record of who saw or exported personal data, when, how and why,
hash-chained per org (crm/compliance/chain.py) with a daily anchor of each chain's head."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin


class AuditEntry(TenantMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_org_id_at", "org_id", "at"),
        Index("ix_audit_log_lead_id", "lead_id"),
        Index("ix_audit_log_user_id_at", "user_id", "at"),
        # the chain's order, and how verification walks it
        UniqueConstraint("org_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))  # indexed with `at` above
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))  # reveal, export, deidentify, purge, ...
    # no FK: the entry must outlive a purged lead
    lead_id: Mapped[int | None] = mapped_column(BigInteger)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # how the data was reached: "browser POST /api/v1/leads/7/reveal", "job ...", "cli ..."
    method: Mapped[str | None] = mapped_column(String(200))
    # position in the org's chain (from 1), the previous entry's hash and this entry's
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest entry of an org's chain: appending locks this row, so entries of one org
    are numbered one after another however many transactions write at once, and an entry
    deleted from the end still leaves its number here."""

    __tablename__ = "audit_heads"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(TenantMixin, Base):
    """An org's chain head as it was on a day: exported and kept elsewhere, it proves the
    entries up to it were not rewritten later, even with every hash recomputed."""

    __tablename__ = "audit_anchors"
    __table_args__ = (UniqueConstraint("org_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))  # first column of the unique
    day: Mapped[date]
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
