"""Scores kept per lead (the breakdown an agent reads) and the org re-score runs.

`leads.score` stays the one number lists and claim-next sort by; the breakdown lives here so a
re-score of a million leads does not widen the hot leads rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Base, BigId, utcnow
from crm.leads.models import Lead
from crm.tenancy import TenantMixin


class LeadScore(TenantMixin, Base):
    __tablename__ = "lead_scores"

    lead_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    # rows are always reached through their lead, so org_id needs no index of its own
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    # [[factor, points, max_points, detail], ...] (crm.scoring.rules.Score.stored)
    breakdown: Mapped[list[Any]] = mapped_column(JSON)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
    # a 64-bit digest of the breakdown: a re-score reads it with the lead and rewrites only the
    # breakdowns that changed (a nightly re-score of a million leads changes few)
    fingerprint: Mapped[int | None] = mapped_column(BigInteger)


class ScoringRun(TenantMixin, Base):
    """One org re-score; its id is the job id, so an RQ retry of the job resumes it."""

    __tablename__ = "scoring_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    min_lead_id: Mapped[int | None] = mapped_column(BigId)
    max_lead_id: Mapped[int | None] = mapped_column(BigId)
    # keyset cursor: every lead of the org up to this id is done (committed with its batch)
    last_lead_id: Mapped[int] = mapped_column(BigId, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    # source conversion counts taken when the run started: every batch, even one resumed
    # after a crash, scores against the same figures; requests score against the latest run's
    source_stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_scoring_runs_org_id_started_at", "org_id", "started_at"),)


class ScoringBatch(Base):
    """One committed batch of a run, written in the batch's own transaction: the batches of a
    run cover its leads' ids without overlap, which is the proof that a run resumed after a
    crash scored every lead exactly once."""

    __tablename__ = "scoring_batches"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("scoring_runs.id", ondelete="CASCADE"), primary_key=True
    )
    first_lead_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    last_lead_id: Mapped[int] = mapped_column(BigId)
    leads: Mapped[int] = mapped_column(Integer)
    # leads whose score moved, and whose breakdown was rewritten
    changed_scores: Mapped[int] = mapped_column(Integer)
    changed_breakdowns: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)


# Indexes on leads that serve scoring (declared here, with the queries that need them):
# the re-score walks an org's leads in id order (keyset), and the cross-org duplicate factor
# looks a batch of numbers up in every org, which the (org_id, phone_bidx) unique index cannot do.
Index("ix_leads_org_id_id", Lead.org_id, Lead.id)
Index("ix_leads_phone_bidx", Lead.phone_bidx)

# A lead's breakdown, loaded only where asked for (selectinload, as GET /leads/{id} does): a list
# of leads or a batch job never pays for it, and a forgotten option raises instead of quietly
# running a query per lead.
Lead.__mapper__.add_property(
    "score_row", relationship(LeadScore, uselist=False, lazy="raise", viewonly=True)
)


def loaded_score_row(lead: object) -> LeadScore | None:
    """The lead's score row if it was loaded with the lead, without ever querying for it."""
    return getattr(lead, "__dict__", {}).get("score_row")
