"""Follow-ups (跟进): each contact with a lead and when to contact them next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
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
    next_followup_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
