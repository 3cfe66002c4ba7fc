"""Lead pools: extra public pools per team or city, reclaim cooldowns and agents' daily quotas."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin


class Pool(TenantMixin, Base):
    """A public pool besides the org's main one (lead.pool_id None): for a team or a city."""

    __tablename__ = "pools"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    city: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClaimBlock(TenantMixin, Base):
    """A former owner may not reclaim a recycled or released lead until `until`."""

    __tablename__ = "claim_blocks"
    __table_args__ = (Index("ix_claim_blocks_user_id_lead_id", "user_id", "lead_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    until: Mapped[datetime]


class AgentDay(TenantMixin, Base):
    """Per agent and day: leads claimed and pool leads opened, for the daily caps."""

    __tablename__ = "agent_days"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]
    claims: Mapped[int] = mapped_column(default=0)
    opens: Mapped[int] = mapped_column(default=0)
