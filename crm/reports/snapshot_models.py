"""Daily KPI snapshots: one row per org and local day, frozen for trend charts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin


class KpiSnapshot(TenantMixin, Base):
    __tablename__ = "kpi_snapshots"
    # the job's idempotency: a re-run of the same day updates the row instead of adding one
    __table_args__ = (UniqueConstraint("org_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date]  # in the org's time zone
    calls: Mapped[int] = mapped_column(default=0)
    connected: Mapped[int] = mapped_column(default=0)
    talk_seconds: Mapped[int] = mapped_column(default=0)
    new_leads: Mapped[int] = mapped_column(default=0)
    # leads that moved into each stage that day: {"contacted": 12, "applied": 3, ...}
    stage_reaches: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    applications: Mapped[int] = mapped_column(default=0)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
