"""An agent's console session, kept by user rather than by socket: a reload (F5) or a network
blip closes the socket, not the session. The calls survive a reconnect within the grace period,
and a console that (re)connects is told where it stands.

Each process keeps the sessions of the consoles it holds (sticky sessions bring a reconnect
back to it). A console that comes back through another process finds the call ended by the
grace timer here, and the call waiting for its outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.leads.models import Lead
from crm.queries import paginate
from crm.schemas import PageArgs, PageResult
from dialer.models import AgentStateSpan, Call
from dialer.service import open_call_of

AWAITING_SHOWN = 20


class ReconnectGrace:
    """Agents whose last console closed, each with a timer: back within the grace period, the
    timer is cancelled; otherwise `lost(actor)` ends their calls and puts them offline."""

    def __init__(self, lost: Callable[[Actor], None]) -> None:
        self._lost = lost
        # user id -> (this departure, its timer): a timer firing for an older departure of an
        # agent who came back and left again is not the one that decides
        self._away: dict[int, tuple[object, threading.Timer]] = {}
        self._lock = threading.Lock()

    def left(self, actor: Actor, seconds: float) -> None:
        departure = object()
        timer = threading.Timer(seconds, self._expire, (actor, departure))
        timer.daemon = True
        with self._lock:
            previous = self._away.pop(actor.user_id, None)
            self._away[actor.user_id] = (departure, timer)
        if previous is not None:
            previous[1].cancel()
        timer.start()

    def returned(self, user_id: int) -> None:
        with self._lock:
            away = self._away.pop(user_id, None)
        if away is not None:
            away[1].cancel()

    def _expire(self, actor: Actor, departure: object) -> None:
        with self._lock:
            away = self._away.get(actor.user_id)
            if away is None or away[0] is not departure:
                return
            del self._away[actor.user_id]
        self._lost(actor)


def awaiting_outcome(agent_id: int) -> Select:
    """The agent's calls that ended without an outcome (a reload, a lost console or server, or
    simply not recorded yet), newest first."""
    return (
        select(Call)
        .where(Call.agent_id == agent_id, Call.state == "ended", Call.disposition.is_(None))
        .order_by(Call.started_at.desc(), Call.id.desc())
    )


def awaiting_page(session: Session, agent_id: int, args: PageArgs) -> PageResult:
    """A page of awaiting_outcome, each call with its lead's masked name and number."""
    page = paginate(session, awaiting_outcome(agent_id), args)
    leads = {
        row.id: row
        for row in session.execute(
            select(Lead.id, Lead.name_masked, Lead.phone_masked).where(
                Lead.id.in_([call.lead_id for call in page.items])
            )
        )
    }
    items = [
        {
            **{column.key: getattr(call, column.key) for column in Call.__table__.columns},
            "lead_name_masked": leads[call.lead_id].name_masked,
            "lead_phone_masked": leads[call.lead_id].phone_masked,
        }
        for call in page.items
    ]
    return PageResult(items, page.total, page.page, page.per_page)


def snapshot(
    session: Session, actor: Actor, payload: Callable[[Session, Call], dict[str, Any]]
) -> dict[str, Any]:
    """Where the agent stands: their state, the call still up and the calls waiting for an
    outcome (as call_state payloads made by `payload`)."""
    state = session.scalar(
        select(AgentStateSpan.state)
        .where(AgentStateSpan.user_id == actor.user_id, AgentStateSpan.ended_at.is_(None))
        .order_by(AgentStateSpan.started_at.desc())
        .limit(1)
    )
    call = open_call_of(session, actor.user_id)
    waiting = paginate(session, awaiting_outcome(actor.user_id), PageArgs(per_page=AWAITING_SHOWN))
    return {
        "agent_state": state or "offline",
        "call": payload(session, call) if call is not None else None,
        "awaiting_outcome": [payload(session, c) for c in waiting.items],
        "awaiting_total": waiting.total,
    }
