"""Which lead notices were already sent, so a periodic job tells each person once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin


class LeadNoticeSent(TenantMixin, Base):
    """One notice of `kind` about a lead's state at `about` (the due time of a follow-up, the
    last touch of a stale lead): a new due time or a new stale spell gets a new notice."""

    __tablename__ = "lead_notices_sent"
    __table_args__ = (UniqueConstraint("lead_id", "kind", "about"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # followup_due | stale_lead
    about: Mapped[datetime]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
