"""Two saves of one call's outcome at once (a double click, a second console): one is kept and
the other answers already_dispositioned; never two follow-ups for one call. Committed rows on
connections of their own, so the database's locking is what is tested."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.db import Database, utcnow
from crm.errors import DomainError
from crm.extensions import runtime
from crm.followups.models import Followup
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead, LeadEvent
from crm.orgs.models import Org, User
from dialer.models import Call
from dialer.schemas import DispositionIn
from dialer.service import record_disposition

pytestmark = pytest.mark.integration


@pytest.fixture
def database(app, database_url: str):
    own = Database()
    own.configure(database_url)
    yield own
    own.engine.dispose()


def test_two_saves_of_one_outcome_at_once_keep_one(database):
    now = utcnow()
    with database.unit_of_work(SYSTEM) as session:
        org = Org(name=f"race-{random.getrandbits(32)}", kind="hq", cities=["北京"])
        session.add(org)
        session.flush()
        agent = User(
            org_id=org.id,
            username=f"race{org.id}",
            display_name="agent",
            password_hash="-",
            role="agent",
        )
        session.add(agent)
        session.flush()
        draft = LeadDraft(phone=f"139{org.id % 10_000:04d}0001", source="race")
        lead = Lead(**lead_columns(runtime.vault, draft, org.id, agent.id, now))
        lead.owner_id = agent.id
        session.add(lead)
        session.flush()
        call = Call(
            org_id=org.id,
            lead_id=lead.id,
            agent_id=agent.id,
            state="ended",
            gateway="sim",
            started_at=now - timedelta(minutes=2),
            answered_at=now - timedelta(minutes=2),
            ended_at=now - timedelta(minutes=1),
            end_reason="hangup",
        )
        session.add(call)
        session.flush()
        actor = actor_for_user(session, agent.id)
        org_id, call_id = org.id, call.id
    start = threading.Barrier(2)

    def save(note: str) -> str:
        start.wait()
        outcome = DispositionIn(call_id=call_id, disposition="interested", note=note)
        try:
            with database.unit_of_work(actor) as session:
                record_disposition(session, actor, outcome, utcnow())
            return "saved"
        except DomainError as refused:
            return refused.code

    try:
        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(save, ["第一次", "第二次"]))
        assert outcomes == ["already_dispositioned", "saved"]
        with database.unit_of_work(SYSTEM) as session:
            followups = session.scalar(
                select(func.count()).select_from(Followup).where(Followup.lead_id == lead.id)
            )
            assert followups == 1
    finally:
        with database.unit_of_work(SYSTEM) as session:
            for model in (Followup, LeadEvent, Call, Lead, User, Org):
                column = Org.id if model is Org else model.org_id
                session.execute(delete(model).where(column == org_id))
