"""Calls, caller IDs, the do-not-call list and agents' state history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, BigId, utcnow
from crm.tenancy import TenantMixin

CALL_STATES = ("dialing", "ringing", "answered", "ended")
DISPOSITIONS = (
    "no_answer",
    "busy",
    "invalid_number",
    "not_interested",
    "callback",
    "interested",
    "applied",
    "do_not_call",
)
AGENT_STATES = ("offline", "available", "dialing", "on_call", "wrap_up", "break")


class Call(TenantMixin, Base):
    """One dial attempt, written as it happens so a crash never hides a call."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_org_id_started_at", "org_id", "started_at"),
        Index("ix_calls_agent_id_started_at", "agent_id", "started_at"),
        Index("ix_calls_lead_id_started_at", "lead_id", "started_at"),
        Index("ix_calls_caller_id_id_started_at", "caller_id_id", "started_at"),
        # the sweep for calls of lost servers reads only open calls: a small partial index
        Index(
            "ix_calls_server_id_open",
            "server_id",
            postgresql_where=text("state <> 'ended'"),
            sqlite_where=text("state <> 'ended'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))  # indexed with started_at above
    lead_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leads.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    caller_id_id: Mapped[int | None] = mapped_column(
        ForeignKey("caller_ids.id", ondelete="SET NULL")
    )
    state: Mapped[str] = mapped_column(String(16), default="dialing")
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_call_id: Mapped[str | None] = mapped_column(String(64))
    # the middle number of an AXB binding (隐私号); the lead's own number never leaves the server
    privacy_number: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    duration_s: Mapped[int | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    disposition: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    claim_on_connect: Mapped[bool] = mapped_column(default=False)
    # the server process holding the console and the gateway's events (dialer/servers.py)
    server_id: Mapped[str | None] = mapped_column(String(64))


class CallerId(TenantMixin, Base):
    """An outbound number (外显号码) of the org's pool; carriers block numbers calling too much."""

    __tablename__ = "caller_ids"
    __table_args__ = (UniqueConstraint("org_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    daily_cap: Mapped[int] = mapped_column(default=150)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallerIdDay(Base):
    """Calls placed from one caller ID on one day (org time zone), for its daily cap."""

    __tablename__ = "caller_id_days"
    __table_args__ = (UniqueConstraint("caller_id_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    caller_id_id: Mapped[int] = mapped_column(ForeignKey("caller_ids.id", ondelete="CASCADE"))
    day: Mapped[date]
    calls: Mapped[int] = mapped_column(default=0)


class DncEntry(TenantMixin, Base):
    """A number that must never be dialled. Checked across every org: a person who asked the
    brand to stop calling asked all of it."""

    __tablename__ = "dnc_entries"
    __table_args__ = (
        UniqueConstraint("org_id", "phone_bidx"),
        Index("ix_dnc_entries_phone_bidx", "phone_bidx"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))  # leads the unique index above
    phone_bidx: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32), default="manual")  # manual | disposition
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentStateSpan(TenantMixin, Base):
    """An agent's time in one state; the open span has no `ended_at`."""

    __tablename__ = "agent_state_spans"
    __table_args__ = (Index("ix_agent_state_spans_user_id_started_at", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class DialerServer(Base):
    """A server process that owns calls, alive while it keeps beating (dialer/servers.py)."""

    __tablename__ = "dialer_servers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)
