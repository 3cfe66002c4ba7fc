"""An agent's calls in the demo's history, through the dialer's own services at the simulated
moment: the dial guarded and planned (`plan_dial`: DNC, calling hours, the lead's daily cap,
caller-ID rotation under each number's cap), the carrier's events recorded as a gateway reports
them (`apply_event`), the outcome written as the console's disposition is
(`record_disposition`). Only the carrier is simulated, as in the embedded server; here its odds
are drawn at once instead of played out in real time.

The agent's states (dialing, on a call, wrap-up...) are kept as they change and written as the
day's spans in one insert: they record time spent, no rule rides on them, and writing each
change as it happens was a third of the history's cost."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance.pii import PiiVault
from crm.leads.models import Lead
from dialer import service
from dialer.gateways.base import CallEvent
from dialer.gateways.simulated import CarrierProfile
from dialer.models import AgentStateSpan
from dialer.operations import set_agent_state
from dialer.schemas import DispositionIn

# the carrier's odds for the history: a telesales floor connects 30-45% of dials to fresh
# web leads and far fewer to bought lists; who answers depends on the lead (`reachable`)
CARRIER = CarrierProfile(answer_rate=0.62, busy_rate=0.08, invalid_rate=0.02)


@dataclass(frozen=True, slots=True)
class Dialled:
    """A call the carrier has answered or ended."""

    call_id: int
    answered_at: datetime | None
    rang_until: datetime  # the end of an unanswered call; the answer of an answered one
    end_reason: str | None  # set for an unanswered call (no_answer, busy, invalid_number)


@dataclass
class Line:
    """One agent's phone for a day."""

    session: Session
    vault: PiiVault
    agent: Actor
    states: list[tuple[str, datetime]] = field(default_factory=list)

    def enter(self, state: str, at: datetime) -> None:
        self.states.append((state, at))

    def dial(
        self,
        lead_id: int,
        at: datetime,
        reachable: float,
        invalid: bool,
        rng: random.Random,
        expected: bool = False,
    ) -> Dialled | str:
        """Place a call at `at`; a refusal comes back as its code (the console's refusal). An
        `expected` call (booked with the callee) is picked up."""
        try:
            plan = service.plan_dial(self.session, self.agent, self.vault, lead_id, now=at)
        except service.DialRefused as refused:
            return refused.code
        self.enter("dialing", at)
        call_id, roll = plan.call.id, 1.0 if expected else rng.random()
        if invalid or roll < CARRIER.invalid_rate:
            return self._unanswered(call_id, at + timedelta(seconds=4), "invalid_number")
        if roll < CARRIER.invalid_rate + CARRIER.busy_rate:
            return self._unanswered(call_id, at + timedelta(seconds=6), "busy")
        if not expected and rng.random() >= CARRIER.answer_rate * reachable:
            gave_up = at + timedelta(seconds=CARRIER.no_answer_after_seconds)
            return self._unanswered(call_id, gave_up, "no_answer")
        answered = at + timedelta(seconds=rng.uniform(*CARRIER.ring_seconds))
        service.apply_event(self.session, CallEvent(str(call_id), "answered", answered))
        self.enter("on_call", answered)
        return Dialled(call_id, answered, answered, None)

    def hang_up(self, dialled: Dialled, talk_seconds: float) -> datetime:
        """The callee hangs up after `talk_seconds`; returns when."""
        ended = dialled.rang_until + timedelta(seconds=talk_seconds)
        event = CallEvent(str(dialled.call_id), "ended", ended, "callee_hangup")
        service.apply_event(self.session, event)
        self.enter("wrap_up", ended)
        return ended

    def save(self, outcome: DispositionIn, at: datetime) -> Lead:
        """The agent saves the call's outcome at `at` and is available again."""
        lead, _ = service.record_disposition(self.session, self.agent, outcome, at)
        self.enter("available", at)
        return lead

    def write_states(self) -> None:
        """The day's spans, each until the next state; the last one stays open unless the
        agent went offline (as set_agent_state leaves them)."""
        if not self.states:
            return
        # whatever was still open before the day closes where the day begins
        set_agent_state(self.session, self.agent, "offline", self.states[0][1])
        ends = [at for _, at in self.states[1:]] + [None]
        rows = [
            {
                "org_id": self.agent.org_id,
                "user_id": self.agent.user_id,
                "state": state,
                "started_at": at,
                "ended_at": end,
            }
            for (state, at), end in zip(self.states, ends, strict=True)
            if state != "offline"
        ]
        if rows:
            self.session.execute(insert(AgentStateSpan), rows)
        self.states.clear()

    def _unanswered(self, call_id: int, ended: datetime, reason: str) -> Dialled:
        service.apply_event(self.session, CallEvent(str(call_id), "ended", ended, reason))
        self.enter("wrap_up", ended)
        return Dialled(call_id, None, ended, reason)
