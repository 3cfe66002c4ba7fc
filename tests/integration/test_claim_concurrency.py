"""Claims racing each other for real: committed rows, one connection per thread, on SQLite and
PostgreSQL alike (the suite's database), so the database's own locking is what is tested."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM, Actor
from crm.auth.service import actor_for_user
from crm.db import Database, utcnow
from crm.errors import DomainError
from crm.extensions import runtime
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead, LeadEvent
from crm.orgs.models import Org, User
from crm.orgs.schemas import OrgSettings
from crm.pools import service
from crm.pools.models import AgentDay, ClaimBlock

pytestmark = pytest.mark.integration


class World:
    """One org with agents and public leads, committed through its own engine; removed after."""

    def __init__(self, database_url: str) -> None:
        self.db = Database()
        self.db.configure(database_url)
        self.org_id: int | None = None

    def build(self, agents: int, leads: int, **settings: int) -> tuple[list[Actor], list[int]]:
        with self.db.unit_of_work(SYSTEM) as session:
            org = Org(name=f"race-{random.getrandbits(32)}", kind="hq", cities=["北京"])
            org.settings = OrgSettings(**settings).model_dump()
            session.add(org)
            session.flush()
            self.org_id = org.id
            users = [
                User(
                    org_id=org.id,
                    username=f"race{org.id}_{n}",
                    display_name=f"agent {n}",
                    password_hash="-",
                    role="agent",
                )
                for n in range(agents)
            ]
            session.add_all(users)
            rows = [
                Lead(**lead_columns(runtime.vault, draft, org.id, None, utcnow()))
                for draft in (
                    LeadDraft(phone=f"139{org.id % 10_000:04d}{n:04d}", source="race")
                    for n in range(leads)
                )
            ]
            session.add_all(rows)
            session.flush()
            actors = [actor_for_user(session, user.id) for user in users]
            return actors, [lead.id for lead in rows]

    def attempt(self, actor: Actor, call: Callable[..., Lead], *args: object) -> int | str:
        """The claimed lead's id, or the refusal's code."""
        try:
            with self.db.unit_of_work(actor) as session:
                return call(session, actor, *args).id
        except DomainError as refused:
            return refused.code

    def owners(self) -> dict[int, int | None]:
        with self.db.unit_of_work(SYSTEM) as session:
            rows = session.execute(select(Lead.id, Lead.owner_id).where(self._mine(Lead)))
            return {lead_id: owner_id for lead_id, owner_id in rows}

    def claimed_events(self) -> Counter[int]:
        with self.db.unit_of_work(SYSTEM) as session:
            return Counter(
                session.scalars(
                    select(LeadEvent.lead_id).where(
                        self._mine(LeadEvent), LeadEvent.kind == "claimed"
                    )
                )
            )

    def claims_counted_today(self, actor: Actor) -> int:
        with self.db.unit_of_work(SYSTEM) as session:
            return session.scalar(
                select(func.sum(AgentDay.claims)).where(AgentDay.user_id == actor.user_id)
            )

    def remove(self) -> None:
        if self.org_id is not None:
            with self.db.unit_of_work(SYSTEM) as session:
                for model in (LeadEvent, ClaimBlock, AgentDay, Lead, User, Org):
                    column = Org.id if model is Org else model.org_id
                    session.execute(delete(model).where(column == self.org_id))
        self.db.engine.dispose()

    def _mine(self, model):
        return model.org_id == self.org_id


@pytest.fixture
def world(app, database_url: str) -> Iterator[World]:
    built = World(database_url)
    try:
        yield built
    finally:
        built.remove()


def claim_next_as_served(session: Session, actor: Actor) -> Lead:
    """Claim-next as its endpoint runs it: begin_claim first, so on PostgreSQL BEGIN goes with
    the lock and COMMIT with the take (crm/pools/pipelined)."""
    return service.claim_next(session, actor, locked=service.begin_claim(session, actor))


CLAIM_NEXTS = pytest.mark.parametrize(
    "claim_next", [service.claim_next, claim_next_as_served], ids=["service", "served"]
)


def race(jobs: list[Callable[[], list[int | str]]]) -> list[int | str]:
    """Run every job in its own thread, all released at once; their outcomes, flattened."""
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], list[int | str]]) -> list[int | str]:
        start.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return [outcome for outcomes in pool.map(run, jobs) for outcome in outcomes]


def test_twenty_threads_claiming_the_same_ten_leads_make_exactly_ten_claims(world):
    agents, lead_ids = world.build(agents=20, leads=10)

    def claim_all(actor: Actor) -> Callable[[], list[int | str]]:
        order = random.sample(lead_ids, len(lead_ids))
        return lambda: [world.attempt(actor, service.claim, lead_id) for lead_id in order]

    outcomes = race([claim_all(actor) for actor in agents])
    won = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert sorted(won) == sorted(lead_ids)
    assert Counter(o for o in outcomes if isinstance(o, str)) == {"already_owned": 190}
    assert all(owner is not None for owner in world.owners().values())
    assert world.claimed_events() == dict.fromkeys(lead_ids, 1)


@CLAIM_NEXTS
def test_concurrent_claim_next_never_gives_one_lead_to_two_agents(world, claim_next):
    agents, lead_ids = world.build(agents=8, leads=30)

    def drain(actor: Actor) -> Callable[[], list[int | str]]:
        def job() -> list[int | str]:
            got: list[int | str] = []
            while isinstance(outcome := world.attempt(actor, claim_next), int):
                got.append(outcome)
            return [*got, outcome]

        return job

    outcomes = race([drain(actor) for actor in agents])
    won = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert sorted(won) == sorted(lead_ids)
    assert [o for o in outcomes if isinstance(o, str)] == ["pool_empty"] * len(agents)
    assert world.claimed_events() == dict.fromkeys(lead_ids, 1)


@pytest.mark.parametrize("call", ["claim", "claim_next", "claim_next_as_served"])
@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"max_private_leads": 3}, "private_pool_full"),
        ({"daily_claim_cap": 3}, "daily_claim_cap"),
    ],
)
def test_one_agents_simultaneous_claims_stop_at_their_limit(world, call, settings, refusal):
    (agent,), lead_ids = world.build(agents=1, leads=10, **settings)

    def attempt(lead_id: int) -> Callable[[], list[int | str]]:
        if call == "claim":
            return lambda: [world.attempt(agent, service.claim, lead_id)]
        claim_next = service.claim_next if call == "claim_next" else claim_next_as_served
        return lambda: [world.attempt(agent, claim_next)]

    outcomes = race([attempt(lead_id) for lead_id in lead_ids])
    assert sum(isinstance(outcome, int) for outcome in outcomes) == 3
    assert Counter(o for o in outcomes if isinstance(o, str)) == {refusal: 7}
    assert Counter(world.owners().values())[agent.user_id] == 3
    assert world.claims_counted_today(agent) == 3


@CLAIM_NEXTS
def test_claim_next_on_postgresql_plans_its_take_once_per_connection(
    world, database_url, claim_next
):
    """Once `leads` has statistics, PostgreSQL priced the take's generic plan above custom ones
    and planned the statement anew on every claim: a third of its CPU per claim. Claim-next
    runs it on its generic plan, inside its own transaction only: the connection goes back to
    the pool planning as usual."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements' plans are PostgreSQL's")
    world.db.engine.dispose()
    world.db.configure(database_url, pool_size=1, max_overflow=0)  # every claim, one connection
    (agent,), _ = world.build(agents=1, leads=12)

    for _ in range(12):
        assert isinstance(world.attempt(agent, claim_next), int)

    with world.db.engine.connect() as conn:
        generic, custom = conn.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'WITH taken AS%'"
            )
        ).one()
        assert (generic > 0, custom) == (True, 0)
        assert conn.scalar(text("SHOW plan_cache_mode")) == "auto"


def test_a_served_claim_leaves_its_connection_as_it_found_it(world, database_url):
    """The served claim takes its connection in autocommit mode to send BEGIN itself: the next
    unit of work on that connection is one transaction again, so a request that fails half-way
    stores nothing; and a claim refused before its take (an unknown pool) is rolled back."""
    world.db.engine.dispose()
    world.db.configure(database_url, pool_size=1, max_overflow=0)  # one connection for all
    (agent,), _ = world.build(agents=1, leads=3)
    assert isinstance(world.attempt(agent, claim_next_as_served), int)

    def unknown_pool(session: Session, actor: Actor) -> Lead:
        locked = service.begin_claim(session, actor)
        return service.claim_next(session, actor, pool_id=10**9, locked=locked)

    assert world.attempt(agent, unknown_pool) == "not_found"
    with pytest.raises(RuntimeError), world.db.unit_of_work(SYSTEM) as session:
        session.execute(delete(LeadEvent).where(LeadEvent.org_id == world.org_id))
        raise RuntimeError("the request fails after its first statement")
    assert sum(world.claimed_events().values()) == 1
    assert isinstance(world.attempt(agent, claim_next_as_served), int)
    assert sum(world.claimed_events().values()) == 2
    assert world.claims_counted_today(agent) == 2


def test_a_served_claim_inside_a_begun_transaction_rolls_back_with_it(world):
    """Only a claim that begins its request's transaction may commit with its take: one made
    after other statements of a transaction is that transaction's, undone if it fails."""
    (agent,), _ = world.build(agents=1, leads=2)
    with pytest.raises(RuntimeError), world.db.unit_of_work(agent) as session:
        session.execute(select(Lead.id).limit(1))
        assert isinstance(claim_next_as_served(session, agent).id, int)
        raise RuntimeError("the request fails after its claim")
    assert world.claimed_events() == {}
    assert Counter(world.owners().values()) == {None: 2}
