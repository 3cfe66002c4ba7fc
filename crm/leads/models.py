"""Leads (prospective borrowers), their sources, timeline events and uploaded lead sheets.

Name, phone and ID number exist only encrypted (`*_enc`), as keyed blind indexes for exact lookups
(`*_bidx`) and as the masked forms everyone may see (`*_masked`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin

FUNNEL = ("new", "contacted", "qualified", "applied", "approved", "disbursed")
STAGES = (*FUNNEL, "lost", "rejected")


class Derived:
    """What a lead's answer derives from its columns, for the ORM entity and for a row that
    holds them (claim-next's ClaimedLead)."""

    __slots__ = ()

    @property
    def pool(self) -> str:
        return "public" if self.owner_id is None else "private"  # type: ignore[attr-defined]

    @property
    def age(self) -> int | None:
        # from the birth year only (the full birth date stays inside the encrypted ID number)
        birth_year = self.birth_year  # type: ignore[attr-defined]
        return date.today().year - birth_year if birth_year else None


class Lead(Derived, TenantMixin, Base):
    __tablename__ = "leads"
    __table_args__ = (
        # one lead per phone per org: the dedupe rule, enforced by the database itself
        UniqueConstraint("org_id", "phone_bidx"),
        # Lead list (docs/benchmarks.md, issue #4). HQ roles see every org, so their queries carry
        # no org_id and PostgreSQL (no skip scan) cannot use an index that starts with it: a
        # filter's column leads, with org_id next, so one index serves both; each sort order has
        # an org-scoped and an all-org index; id completes each sort key, because an import
        # gives all its leads the same created_at (and score) and a tie group would be sorted.
        # owner_id last: an agent sees the public pool and their own leads, and the list's capped
        # count ("10,000+") then checks that inside the index instead of visiting each row.
        Index("ix_leads_id_number_bidx_org", "id_number_bidx", "org_id"),
        Index("ix_leads_name_bidx_org", "name_bidx", "org_id"),
        # also the funnel's cohort of an org by creation date
        Index("ix_leads_org_created_id", "org_id", "created_at", "id", "owner_id"),
        Index("ix_leads_created_id", "created_at", "id"),
        Index("ix_leads_org_score_id", "org_id", "score", "id", "owner_id"),
        Index("ix_leads_score_id", "score", "id"),
        Index("ix_leads_org_followup_id", "org_id", "last_followup_at", "id", "owner_id"),
        Index("ix_leads_followup_id", "last_followup_at", "id"),
        Index("ix_leads_stage_org_created", "stage", "org_id", "created_at", "owner_id"),
        Index("ix_leads_city_org_created", "city", "org_id", "created_at", "owner_id"),
        # the channel-by-city screen (渠道 x 城市) best first; org_id is checked in the index
        Index("ix_leads_source_city_score", "source", "city", "score", "id", "org_id", "owner_id"),
        # an agent's callbacks by due time; the stage lets the private-pool limit count the
        # leads they are still working inside the index (crm/pools/ownership.py)
        Index("ix_leads_owner_followup_stage", "owner_id", "next_followup_at", "stage"),
        Index("ix_leads_pii_key_id", "pii_key_id"),
        # claim-next takes the best unowned lead of a pool from the front of this index; partial,
        # so claimed leads (most of them) cost it nothing. SQLite does not reflect DESC, so
        # autogenerate is told to leave it alone (migrations/env.py) rather than see drift.
        Index(
            "ix_leads_public_pool_best",
            "org_id",
            "pool_id",
            text("score DESC"),
            "created_at",
            postgresql_where=text("owner_id IS NULL"),
            sqlite_where=text("owner_id IS NULL"),
            info={"autogenerate": False},
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # composite indexes above lead with org_id; a separate one would only slow inserts
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    # bought lists often have no names: a lead is a phone number first
    name_enc: Mapped[str | None] = mapped_column(Text)
    name_bidx: Mapped[str | None] = mapped_column(String(64))
    name_masked: Mapped[str | None] = mapped_column(String(64))
    phone_enc: Mapped[str] = mapped_column(Text)
    phone_bidx: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(32))
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64))
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    pii_key_id: Mapped[str] = mapped_column(String(32))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    gender: Mapped[str | None] = mapped_column(String(8))

    city: Mapped[str | None] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(32))
    phone_city: Mapped[str | None] = mapped_column(String(32))
    carrier: Mapped[str | None] = mapped_column(String(16))
    is_mobile: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(64))
    amount_wanted: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    term_months: Mapped[int | None] = mapped_column(SmallInteger)
    purpose: Mapped[str | None] = mapped_column(String(100))
    qualifications: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remark: Mapped[str | None] = mapped_column(Text)

    consent_given_at: Mapped[datetime | None]
    consent_method: Mapped[str | None] = mapped_column(String(32))
    consent_text_version: Mapped[str | None] = mapped_column(String(32))

    score: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    stage: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    # furthest funnel stage ever reached (index in FUNNEL); a lost lead keeps it, so a funnel
    # counts leads that reached a stage, not only those still sitting in it
    reached_rank: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    stage_changed_at: Mapped[datetime | None]
    lost_reason: Mapped[str | None] = mapped_column(String(200))
    # None: the org's main public pool (公海); else a team or city pool of the same org
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # when the lead last came to an owner (claim or assignment); kept when it goes back to the
    # pool, since being worked is activity that retention must not count as idle time
    claimed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_followup_at: Mapped[datetime | None]
    next_followup_at: Mapped[datetime | None]


class LeadSource(TenantMixin, Base):
    """A channel leads come from, with what a lead from it costs (for channel ROI)."""

    __tablename__ = "lead_sources"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="other")
    cost_per_lead: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadEvent(TenantMixin, Base):
    """One entry of a lead's timeline; append-only."""

    __tablename__ = "lead_events"
    __table_args__ = (Index("ix_lead_events_lead_id_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigId, ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Upload(TenantMixin, Base):
    """A lead sheet waiting for its import job; kept in the database so any worker can read it,
    sealed like the leads' own personal data (crm/leads/uploads.py reads and writes `content`)."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # False: plaintext, as stored before migration 0015 (or by the release before it while an
    # upgrade rolls out); blanked once imported either way
    sealed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # set when the import finished: a retried job returns it instead of importing twice
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
