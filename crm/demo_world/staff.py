"""Who works in each demo org, as the actors the services are called with, and the run's shared
state: the seed, the clock it stops at and what the floor remembers of leads."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.service import actor_for_user
from crm.compliance.pii import PiiVault
from crm.demo_world.replies import LeadMemory
from crm.loans.storage import DocumentStorage
from crm.orgs.models import Org, User
from crm.pools.ownership import parse_settings

# team leads coach and assign; they do not sell (a team lead's own sale would pay them as agent
# and as team lead under one dedupe key, which settlement refuses: crm/commissions/calc.py)
SELLING_ROLES = ("agent", "partner_agent")
# who records what the lender did (disbursements, repayments): HQ's finance, a partner's admin
LOAN_DESK_ROLES = {"hq": "finance", "partner": "partner_admin"}


@dataclass(frozen=True)
class Office:
    org_id: int
    name: str
    hq: bool
    cities: tuple[str, ...]
    zone: ZoneInfo
    opens: time  # calling hours
    closes: time
    sellers: tuple[Actor, ...]  # the agents, who call
    loan_desk: Actor

    def at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, self.zone)


def offices(session: Session, org_names: list[str]) -> list[Office]:
    found = []
    for name in org_names:
        org = session.scalars(select(Org).where(Org.name == name)).one()
        settings = parse_settings(org.settings)
        users = session.scalars(
            select(User).where(User.org_id == org.id, User.active.is_(True)).order_by(User.id)
        ).all()
        actors: defaultdict[str, list[Actor]] = defaultdict(list)
        for user in users:
            actors[user.role].append(actor_for_user(session, user.id))
        found.append(
            Office(
                org_id=org.id,
                name=org.name,
                hq=org.kind == "hq",
                cities=tuple(org.cities or ()),
                zone=ZoneInfo(settings.timezone),
                opens=time.fromisoformat(settings.calling_hours_start),
                closes=time.fromisoformat(settings.calling_hours_end),
                sellers=tuple(a for role in SELLING_ROLES for a in actors.get(role, ())),
                loan_desk=actors[LOAN_DESK_ROLES[org.kind]][0],
            )
        )
    return found


@dataclass
class Run:
    """What one build of the world shares across its days."""

    seed: int
    now: datetime
    vault: PiiVault
    documents: DocumentStorage  # where contracts' PDFs go once rendered
    hq: Office
    memory: dict[int, LeadMemory] = field(default_factory=dict)
    _actors: dict[int, Actor] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.hq.zone).date()

    def rng(self, *key: object) -> random.Random:
        """A random stream of its own per purpose, org and day, so what one part draws does not
        shift what another gets."""
        return random.Random(":".join(map(str, (self.seed, *key))))

    def actor(self, session: Session, user_id: int) -> Actor:
        if user_id not in self._actors:
            self._actors[user_id] = actor_for_user(session, user_id)
        return self._actors[user_id]

    def remember(self, lead_id: int) -> LeadMemory:
        return self.memory.setdefault(lead_id, LeadMemory())
