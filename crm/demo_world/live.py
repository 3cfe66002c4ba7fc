"""The demo floor at work while the embedded server runs with `--live-demo` (or LIVE_DEMO=1): a
few simulated agents dial through the server's own dialer (its guards, the simulated carrier in
real time, the wallboard's pushes) and save each outcome as the console does, so the wallboard
and the big screen move during a sales demo. The demo's people to log in as (agent_bj1,
sz_agent1, the managers) are left to the humans."""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM, Actor
from crm.auth.service import actor_for_user
from crm.compliance.pii import PiiVault
from crm.db import Database, utcnow
from crm.demo_world import loans, replies
from crm.demo_world.floor import WORKED_STAGES
from crm.demo_world.options import WorldOptions
from crm.demo_world.setup import demo_orgs
from crm.demo_world.staff import Office, Run, offices
from crm.errors import DomainError
from crm.leads.models import Lead
from crm.loans.products import ProductView
from crm.loans.storage import DocumentStorage
from crm.orgs.models import User
from crm.pools.service import claim_next
from dialer import service
from dialer.operations import Dialer

log = logging.getLogger(__name__)
BOTS = ("agent_bj2", "sz_agent2", "cd_agent1")
# a refused dial (outside the calling hours, an empty pool) is tried again this much later
IDLE_SECONDS = 120
POLL_SECONDS = 1.0


def start(db: Database, dialer: Dialer, vault: PiiVault, documents: DocumentStorage) -> int:
    """Start the simulated agents (daemon threads: they stop with the server); returns how many
    were found in the demo orgs."""
    with db.unit_of_work(SYSTEM) as session:
        orgs = demo_orgs(session)
        if not orgs:
            return 0
        floors = offices(session, [org.name for org in orgs])
        users = session.scalars(select(User.id).where(User.username.in_(BOTS))).all()
        agents = [actor_for_user(session, user_id) for user_id in users]
    run = Run(WorldOptions.seed, utcnow(), vault, documents, floors[0])
    for agent in agents:
        office = next(o for o in floors if o.org_id == agent.org_id)
        bot = Bot(db, dialer, run, office, agent)
        threading.Thread(target=bot.work, name=f"live-demo-{agent.user_id}", daemon=True).start()
    return len(agents)


class Bot:
    """One simulated agent: its own due leads first, then the best of the pool."""

    def __init__(self, db: Database, dialer: Dialer, run: Run, office: Office, agent: Actor):
        self.db, self.dialer, self.run, self.office, self.agent = db, dialer, run, office, agent
        self.rng = random.Random(f"{run.seed}:live:{agent.user_id}")
        # leads a rule refused today (the day's cap, the DNC list): not offered again today
        self.refused: set[tuple[date, int]] = set()

    def work(self) -> None:
        self.dialer.change_state(self.agent, "available")
        while True:
            if not self._in_calling_hours():  # no lead is claimed at night to be refused
                time.sleep(IDLE_SECONDS)
                continue
            try:
                self._one_call()
                time.sleep(self.rng.uniform(10, 40))  # notes, WeChat, the next lead's file
            except DomainError as refused:  # outside the hours, an empty pool, a cap
                log.info("live demo agent %s waits: %s", self.agent.user_id, refused.code)
                time.sleep(IDLE_SECONDS)
            except Exception:  # a demo helper must not take the server down with it
                log.exception("live demo agent %s failed; retrying", self.agent.user_id)
                time.sleep(IDLE_SECONDS)

    def _one_call(self) -> None:
        lead_id, today = self._next_lead(), self._today()
        try:
            call_id = self.dialer.dial(self.agent, lead_id)
        except service.DialRefused as refused:
            if refused.code != "outside_calling_hours":
                self.refused.add((today, lead_id))
            raise
        while True:
            time.sleep(POLL_SECONDS)
            with self.db.unit_of_work(self.agent, readonly=True) as session:
                call = service.agent_call(session, self.agent, call_id)
                if call.state == "ended":
                    break
        with self.db.unit_of_work(self.agent) as session:
            lead = session.get(Lead, call.lead_id)
            reply, product = self._reply(session, lead, call.answered_at is None, call.end_reason)
            saved = utcnow() + timedelta(seconds=self.rng.uniform(20, 60))
            outcome = replies.outcome(call_id, reply, call.ended_at, saved, self.rng)
        time.sleep((saved - utcnow()).total_seconds())  # wrap-up
        self.dialer.disposition(self.agent, outcome)
        if product is not None:
            with self.db.unit_of_work(self.agent) as session:
                lead = session.get(Lead, call.lead_id)
                loans.apply(session, self.run, self.agent, lead, product, utcnow())

    def _reply(
        self, session: Session, lead: Lead, unanswered: bool, end_reason: str | None
    ) -> tuple[replies.Reply, ProductView | None]:
        memory = self.run.remember(lead.id)
        memory.tried(self._today(), not unanswered)
        hour = utcnow().astimezone(self.office.zone).hour
        temper = replies.temper_of(self.run.seed, lead)
        reason = (end_reason or "no_answer") if unanswered else None
        reply = replies.after_call(lead.stage, temper, memory, reason, hour, self.rng)
        product = loans.choose(session, self.run, self.agent, lead) if reply.apply else None
        if reply.apply and product is None:
            reply = replies.no_product(self.rng)
        return reply, product

    def _next_lead(self) -> int:
        """The agent's most overdue own lead not refused today, else claim-next's pick."""
        today = self._today()
        skipped = [lead_id for day, lead_id in self.refused if day == today]
        with self.db.unit_of_work(self.agent) as session:
            due = session.scalar(
                select(Lead.id)
                .where(
                    Lead.owner_id == self.agent.user_id,
                    Lead.stage.in_(WORKED_STAGES),
                    Lead.next_followup_at <= utcnow(),
                    Lead.id.not_in(skipped),
                )
                .order_by(Lead.next_followup_at)
                .limit(1)
            )
            return due if due is not None else claim_next(session, self.agent).id

    def _in_calling_hours(self) -> bool:
        local = utcnow().astimezone(self.office.zone).time()
        return self.office.opens <= local < self.office.closes

    def _today(self) -> date:
        return utcnow().astimezone(self.office.zone).date()
