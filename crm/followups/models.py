"""Follow-ups (跟进): each contact with a lead, and the follow-ups promised for later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin

CHANNELS = ("call", "sms", "wechat", "visit", "other")


class Followup(TenantMixin, Base):
    __tablename__ = "followups"
    __table_args__ = (
        Index("ix_followups_lead_id_created_at", "lead_id", "created_at"),
        Index("ix_followups_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(64))
    # the person was reached (a connected call, a visit, a reply): only then is a new lead
    # contacted, and only then does the contact keep a callback that was due
    reached: Mapped[bool] = mapped_column(default=False, server_default=false())
    next_followup_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduledFollowup(TenantMixin, Base):
    """A follow-up promised for a time (a callback, 约定跟进): open until a later contact keeps
    or replaces it, or the lead leaves the funnel. A lead may have several; the lead's
    `next_followup_at` is the earliest open one."""

    __tablename__ = "scheduled_followups"
    __table_args__ = (
        # the due lists read the open ones of an agent's leads by time
        Index(
            "ix_scheduled_followups_open",
            "lead_id",
            "due_at",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    # the follow-up that promised it (none for a promise carried over from a lead's single
    # next_followup_at, before leads had several), and the one that kept or replaced it
    followup_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("followups.id", ondelete="CASCADE")
    )
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by_followup_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("followups.id", ondelete="SET NULL")
    )
    # kept (the person was reached), replaced (a new time instead), lead_closed (disbursed,
    # lost or rejected: nobody calls back)
    close_reason: Mapped[str | None] = mapped_column(String(16))
