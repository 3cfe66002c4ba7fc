"""What the consoles ask of the dialer, end to end: units of work, the gateway, live pushes.

Socket handlers and the telephony webhook call these; the rules live in dialer/service.py."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import OperationalError

from crm.auth.actor import SYSTEM, Actor
from crm.coalescer import Coalescer
from crm.compliance.masking import mask_phone
from crm.compliance.pii import PiiVault
from crm.db import Database, utcnow
from crm.errors import DomainError
from crm.leads.models import Lead
from crm.leads.schemas import LeadOut
from crm.pools.service import preview_next
from crm.scoring.refresh import Scored, ScoreRefresh
from crm.tenancy import ALL_ORGS
from dialer import servers, service, sessions
from dialer.gateways.base import CallEvent, Gateway
from dialer.kpi_pushes import KpiPushes
from dialer.models import AgentStateSpan, Call, CallerId, DncEntry
from dialer.schemas import DispositionIn, NextLeadIn
from dialer.servers import Heartbeat

log = logging.getLogger(__name__)
# A lead ringing on one console is never offered to another, nor one tried within the hour: an
# unanswered power-dialled lead stays in the pool and would otherwise come straight back (auto
# mode would ring it until the daily cap).
RETRY_AFTER = timedelta(hours=1)
Push = Callable[[str, dict[str, Any], str, str], None]  # (event, data, room, namespace)
ATTACH_SECONDS = 0.2
# waits before applying a gateway event again while the database is away: ~30 s in all
EVENT_RETRY_SECONDS = (0.2, 0.5, 1, 2, 4, 8, 15)
_OFF = object()  # "not in auto mode", as opposed to auto mode with no city


class Dialer:
    def __init__(
        self,
        db: Database,
        gateway: Gateway,
        vault: PiiVault,
        push: Push,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.db, self.gateway, self.vault, self.push = db, gateway, vault, push
        self.heartbeat = heartbeat
        self.kpis = KpiPushes(db, push)
        self.scores = ScoreRefresh(db, on_scored=self._push_scores)
        # the provider's ids of placed calls, written a moment after the dial's ack: a second
        # unit of work per dial was an eighth of the ack's time. Events name calls by our id.
        self._placed: Coalescer[service.PlacedCall] = Coalescer(
            "attach-gateway-calls", self._attach, ATTACH_SECONDS
        )
        # agents in auto mode → the city they asked for. Held by the process that holds their
        # console (sticky sessions), which is where their dispositions and breaks arrive.
        self.auto_mode: dict[int, str | None] = {}

    def dial(self, actor: Actor, lead_id: int, claim_on_connect: bool = False) -> int:
        if self.heartbeat is not None:
            self.heartbeat.ensure_started()
        with self.db.unit_of_work(actor) as session:
            server_id = self.heartbeat.server_id if self.heartbeat else None
            plan = service.plan_dial(
                session, actor, self.vault, lead_id, claim_on_connect, server_id
            )
            set_agent_state(session, actor, "dialing")
            call_id, dialing = plan.call.id, _call_payload(session, plan.call)
        self._push_state(actor.org_id, actor.user_id, "dialing")
        # before the gateway is asked: its first event (ringing) may come back within milliseconds
        self._push_call_payload(actor.org_id, actor.user_id, dialing)
        try:
            placed = self.gateway.originate(
                call_ref=str(call_id),
                caller_id=plan.caller_id,
                callee_e164=plan.callee_e164,
                agent_ref=f"agent-{actor.user_id}",
                privacy=self.gateway.supports_privacy_numbers,
                sink=self.deliver,
            )
        except Exception as exc:
            log.exception("gateway refused call %s", call_id)
            self.on_gateway_event(CallEvent(str(call_id), "ended", utcnow(), "failed"))
            raise DomainError(
                "gateway_error", "the telephony provider refused the call", 502
            ) from exc
        self._placed.mark((call_id, placed.gateway_call_id, placed.privacy_number))
        return call_id

    def _attach(self, placed: set[service.PlacedCall]) -> None:
        with self.db.unit_of_work(SYSTEM) as session:
            service.attach_gateway_calls(session, self.gateway.name, sorted(placed))

    def next_lead(self, actor: Actor, data: NextLeadIn) -> dict:
        """Power/preview dialing straight from the public pool: the best lead the agent may
        claim, still unowned; it becomes theirs only when the callee answers."""
        with self.db.unit_of_work(actor) as session:
            untried = ~exists().where(
                Call.lead_id == Lead.id,
                or_(Call.state != "ended", Call.started_at >= utcnow() - RETRY_AFTER),
            )
            # the table, not the model: any org's entry counts, as at the dial (no org scope)
            dnc_table = DncEntry.__table__
            not_dnc = ~exists().where(dnc_table.c.phone_bidx == Lead.phone_bidx)
            callable_today = service.under_daily_cap(session, actor.org_id, utcnow())
            lead_id = preview_next(
                session, actor, city=data.city, exclude=(untried, not_dnc, callable_today)
            )
            payload = _lead_payload(session, lead_id)
        if not data.auto_dial:
            return {"lead": payload}
        return {"lead": payload, "call_id": self.dial(actor, lead_id, claim_on_connect=True)}

    def hangup(self, actor: Actor, call_id: int) -> None:
        with self.db.unit_of_work(actor, readonly=True) as session:
            service.agent_call(session, actor, call_id)
        # the gateway reports the end like any other event, so a hang-up is recorded once
        self.gateway.hangup(str(call_id))

    def deliver(self, event: CallEvent) -> None:
        """An in-process gateway's event, applied even across a database restart: lost, its
        call would stay open and its agent "busy" for good. (The webhook answers 503 instead,
        and the provider sends the event again.)"""
        for delay in (*EVENT_RETRY_SECONDS, None):
            try:
                self.on_gateway_event(event)
                return
            except OperationalError:
                if delay is None:
                    log.exception("dropped the %s event of call %s", event.state, event.call_ref)
                    return
                log.warning("database unavailable: %s event of call %s again in %s s",
                            event.state, event.call_ref, delay)  # fmt: skip
                time.sleep(delay)

    def on_gateway_event(self, event: CallEvent) -> None:
        """Entry point of every gateway event (callback thread or webhook)."""
        with self.db.unit_of_work(SYSTEM) as session:
            applied = service.apply_event(session, event)
            if applied is None:
                return
            call, claimed = applied
            agent = Actor(call.agent_id, call.org_id, "agent", None, frozenset())
            next_state = {"answered": "on_call", "ended": "wrap_up"}.get(call.state)
            if next_state and call.agent_id is not None:
                set_agent_state(session, agent, next_state, event.at)
            pop = _lead_payload(session, call.lead_id) if call.state == "answered" else None
            payload = _call_payload(session, call)
        self._push_call_payload(call.org_id, call.agent_id, payload)
        if call.state in ("answered", "ended"):  # connected, calls and talk time moved
            self.kpis.changed(call.org_id)
        if next_state and call.agent_id is not None:
            self._push_state(call.org_id, call.agent_id, next_state)
        if pop is not None:
            self.push(
                "screen_pop",
                {"lead": pop, "call_id": payload["call_id"]},
                f"user:{call.agent_id}",
                "/dialer",
            )
            if claimed:
                self.push("lead_assigned", {"lead": pop}, f"user:{call.agent_id}", "/dialer")

    def disposition(self, actor: Actor, data: DispositionIn, now: datetime | None = None) -> None:
        """The call's outcome, a follow-up and any stage change, in one transaction; the lead's
        re-score follows within a second (ScoreRefresh)."""
        now = now or utcnow()
        with self.db.unit_of_work(actor) as session:
            # re-scored with others off the ack, below
            lead, followed_up = service.record_disposition(session, actor, data, now)
            set_agent_state(session, actor, "available", now)
            org_id, lead_id = lead.org_id, lead.id
        if followed_up:
            self.scores.changed(org_id, lead_id)
        self._push_state(actor.org_id, actor.user_id, "available")
        self.kpis.changed(org_id)  # an application may have been recorded
        if actor.user_id in self.auto_mode:
            self._auto_dial_next(actor)

    def start_auto_mode(self, actor: Actor, city: str | None) -> dict:
        """Auto mode on: the best public lead is dialled now, and the next one after each
        wrap-up (disposition). Refused now, the mode stays off and the ack says why."""
        offered = self.next_lead(actor, NextLeadIn(city=city, auto_dial=True))
        self.auto_mode[actor.user_id] = city
        return offered

    def stop_auto_mode(self, actor: Actor, reason: str, message: str) -> None:
        if self.auto_mode.pop(actor.user_id, _OFF) is not _OFF:
            self.push(
                "notice",
                {"code": "auto_mode_stopped", "reason": reason, "message": message},
                f"user:{actor.user_id}",
                "/dialer",
            )

    def _auto_dial_next(self, actor: Actor) -> None:
        city = self.auto_mode.get(actor.user_id)
        try:
            offered = self.next_lead(actor, NextLeadIn(city=city, auto_dial=True))
        except DomainError as err:  # empty pool or a guard: stop rather than retry in a loop
            self.stop_auto_mode(actor, err.code, err.message)
            return
        self.push("auto_dial", offered, f"user:{actor.user_id}", "/dialer")

    def change_state(self, actor: Actor, state: str) -> None:
        with self.db.unit_of_work(actor) as session:
            if state != "offline" and service.open_call_of(session, actor.user_id) is not None:
                raise DomainError("busy", "finish your current call first")
            set_agent_state(session, actor, state)
        self._push_state(actor.org_id, actor.user_id, state)
        if state in ("break", "offline"):
            self.stop_auto_mode(actor, state, f"auto mode stopped: you went {state}")

    def resume(self, actor: Actor) -> dict:
        """What a console shows when it (re)connects: the agent's state, the call still up,
        the calls waiting for an outcome and whether auto mode is on."""
        with self.db.unit_of_work(actor, readonly=True) as session:
            shown = sessions.snapshot(session, actor, _call_payload)
        return {**shown, "auto_mode": actor.user_id in self.auto_mode}

    def console_lost(self, actor: Actor) -> None:
        """No console of the agent came back within the grace period: their calls end with a
        reason (and wait for an outcome) and the agent goes offline."""
        self.auto_mode.pop(actor.user_id, None)
        with self.db.unit_of_work(SYSTEM) as session:
            calls = service.close_open_calls(session, "console_lost", agent_id=actor.user_id)
            ended = [_call_payload(session, c) for c in calls]
            set_agent_state(session, actor, "offline")
        for call in calls:
            self.gateway.hangup(str(call.id))
        for payload in ended:
            self._push_call_payload(actor.org_id, actor.user_id, payload)
        self._push_state(actor.org_id, actor.user_id, "offline")

    def shut_down(self, reason: str = "server_shutdown") -> int:
        """This process is stopping: the calls it placed end with `reason` and their agents go
        offline (their consoles reconnect through another process), and the work marked for
        the next tick (provider ids, re-scores, wallboard figures) is done now. Returns how
        many calls ended."""
        self._placed.drain()
        server_id = self.heartbeat.server_id if self.heartbeat is not None else None
        calls: list[Call] = []
        if server_id is not None:  # None: this process never placed a call
            with self.db.unit_of_work(SYSTEM) as session:
                calls = service.close_open_calls(session, reason, server_id=server_id)
                ended = [(c.org_id, c.agent_id, _call_payload(session, c)) for c in calls]
                agents = {(c.agent_id, c.org_id) for c in calls if c.agent_id is not None}
                for agent_id, org_id in agents:
                    agent = Actor(agent_id, org_id, "agent", None, frozenset())
                    set_agent_state(session, agent, "offline")
            for call in calls:
                self.gateway.hangup(str(call.id))
            for org_id, agent_id, payload in ended:
                self._push_call_payload(org_id, agent_id, payload)
            for agent_id, org_id in agents:
                self._push_state(org_id, agent_id, "offline")
        self.scores.refresh_marked()
        self.kpis.push_marked()
        return len(calls)

    def close_lost_calls(self, now: datetime | None = None) -> int:
        """Open calls of server processes that stopped beating end as server_lost; their agents,
        unless already busy again through another server, go offline. Idempotent."""
        now = now or utcnow()
        with self.db.unit_of_work(SYSTEM) as session:
            calls = servers.lost_calls(session, now)
            for call in calls:
                service.end_call(session, call, "server_lost", now)
            ended = [(c.org_id, c.agent_id, _call_payload(session, c)) for c in calls]
            stranded = servers.agents_left_on_lost_calls(session, calls)
            for agent in stranded:
                set_agent_state(session, agent, "offline", now)
            servers.forget_dead_servers(session, now)
        for call in calls:
            self.gateway.hangup(str(call.id))
        for org_id, agent_id, payload in ended:
            self._push_call_payload(org_id, agent_id, payload)
        for agent in stranded:
            self._push_state(agent.org_id, agent.user_id, "offline")
        return len(calls)

    def _push_scores(self, scored: list[Scored]) -> None:
        """A lead's new score on its owner's console, so the card and the lists show the same."""
        for _org_id, owner_id, lead_id, score in scored:
            if owner_id is not None:
                scores = {"lead_id": lead_id, "score": score}
                self.push("lead_scored", scores, f"user:{owner_id}", "/dialer")

    def _push_call_payload(self, org_id: int, agent_id: int | None, payload: dict) -> None:
        if agent_id is not None:
            self.push("call_state", payload, f"user:{agent_id}", "/dialer")
        self.push("call_state", {**payload, "agent_id": agent_id}, f"org:{org_id}", "/wallboard")

    def _push_state(self, org_id: int, agent_id: int, state: str) -> None:
        # the agent's own console shows the same state the wallboard does
        self.push("agent_state", {"state": state}, f"user:{agent_id}", "/dialer")
        self.push(
            "agent_states",
            {"agents": [{"agent_id": agent_id, "state": state}]},
            f"org:{org_id}",
            "/wallboard",
        )


def close_calls_left_open(db: Database) -> int:
    """At server start: calls that were open when the server stopped end as server_restart."""
    with db.unit_of_work(SYSTEM) as session:
        return len(service.close_open_calls(session, "server_restart"))


def set_agent_state(session, actor: Actor, state: str, at: datetime | None = None) -> None:
    """Close the agent's open span and open one in `state`: time in each state is recorded."""
    at = at or utcnow()
    session.execute(
        update(AgentStateSpan)
        .where(AgentStateSpan.user_id == actor.user_id, AgentStateSpan.ended_at.is_(None))
        .values(ended_at=at)
        .execution_options(synchronize_session=False, **ALL_ORGS)
    )
    if state != "offline":
        session.add(
            AgentStateSpan(org_id=actor.org_id, user_id=actor.user_id, state=state, started_at=at)
        )


def _lead_payload(session, lead_id: int) -> dict:
    lead = session.get(Lead, lead_id, execution_options=ALL_ORGS)
    return LeadOut.model_validate(lead).model_dump(mode="json")


def _call_payload(session, call: Call) -> dict:
    """call_state as API.md gives it; the caller ID masked like any number shown to people."""
    stamp = call.ended_at or call.answered_at or call.started_at
    payload = {
        "call_id": call.id,
        "lead_id": call.lead_id,
        "state": call.state,
        "at": stamp.isoformat(),
        "caller_id_masked": _masked_caller_id(session, call.caller_id_id),
    }
    if call.duration_s is not None:
        payload["duration_s"] = call.duration_s
    if call.end_reason:
        payload["end_reason"] = call.end_reason
    return payload


# caller ID id → masked number, read once per process: every call event shows it, and a caller
# ID's number never changes (none of the API's endpoints edits one)
_masked_caller_ids: dict[int, str] = {}


def _masked_caller_id(session, caller_id_id: int | None) -> str | None:
    if caller_id_id is None:  # a deleted caller ID leaves its calls without one
        return None
    masked = _masked_caller_ids.get(caller_id_id)
    if masked is None:
        number = session.scalar(
            select(CallerId.number).where(CallerId.id == caller_id_id).execution_options(**ALL_ORGS)
        )
        if number is None:
            return None
        masked = _masked_caller_ids.setdefault(caller_id_id, mask_phone(number))
    return masked


def current_agent_states(session, org_ids: list[int] | None) -> list[dict]:
    stmt = select(AgentStateSpan.user_id, AgentStateSpan.state, AgentStateSpan.started_at).where(
        AgentStateSpan.ended_at.is_(None)
    )
    if org_ids is not None:
        stmt = stmt.where(AgentStateSpan.org_id.in_(org_ids))
    return [
        {"agent_id": u, "state": s, "since": at.isoformat()} for u, s, at in session.execute(stmt)
    ]
