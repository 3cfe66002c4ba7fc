"""The demo world (crm/demo_world) on a small history: every org has one, and it keeps the rules
the product enforces — no call to a do-not-call number, none outside the calling hours or over
a cap, one owner at a time, stage moves only along the funnel, nothing above the 36% line —
and its leads are scored. A second build leaves it alone; a rebuild replaces it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import crm.model_registry  # noqa: F401 - every mapper must exist before the first query
from crm.auth.actor import SYSTEM
from crm.auth.passwords import Passwords
from crm.commissions.models import Settlement, Statement, StatementLine
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.db import Database
from crm.demo_world.options import WorldOptions
from crm.demo_world.world import build
from crm.followups.models import Followup
from crm.funnel.stages import TRANSITIONS
from crm.leads.models import FUNNEL, Lead, LeadEvent
from crm.loans.models import Application, CollectionRecord, Contract, Loan, Repayment
from crm.loans.storage import LocalStorage
from crm.migrate import upgrade_to_head
from crm.notifications.models import Notification
from crm.orgs.models import Org, User
from crm.pools.ownership import parse_settings
from crm.scoring.models import LeadScore
from dialer.kpis import kpis_today
from dialer.models import AgentStateSpan, Call, CallerId, DncEntry
from tests.live_server import fresh_database

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
# a Thursday afternoon, two days after November was settled
NOW = datetime(2026, 12, 3, 14, 30, tzinfo=SHANGHAI)
SMALL = WorldOptions(days=24, leads_per_day=14, now=NOW)
OWNERSHIP = ("claimed", "assigned", "reassigned", "released", "recycled")


def build_on(place: SimpleNamespace, options: WorldOptions, rebuild: bool = False):
    return build(
        lambda: place.db.unit_of_work(SYSTEM),
        Passwords(1, 1024),
        place.vault,
        LocalStorage(place.folder / "documents"),
        options,
        rebuild=rebuild,
    )


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """`fresh(name)`: an empty, migrated database of its own (SQLite, or a PostgreSQL schema
    when the suite runs on PostgreSQL), with its folder and personal-data keys."""
    with ExitStack() as stack:

        def make(name: str) -> SimpleNamespace:
            folder = tmp_path_factory.mktemp(name)
            url = stack.enter_context(fresh_database(folder))
            upgrade_to_head(url)
            database = Database()
            database.configure(url)
            stack.callback(database.engine.dispose)
            keys = PiiKeyring.from_json(PiiKeyring.generate_json())
            return SimpleNamespace(db=database, folder=folder, vault=PiiVault(PiiCipher(keys)))

        yield make


@pytest.fixture(scope="module")
def world(fresh) -> SimpleNamespace:
    place = fresh("demo-world")
    _, place.summary = build_on(place, SMALL)
    return place


def read(world: SimpleNamespace, stmt) -> list:
    with world.db.unit_of_work(SYSTEM, readonly=True) as session:
        return list(session.execute(stmt))


def zones(world: SimpleNamespace) -> dict[int, tuple[ZoneInfo, time, time, int]]:
    """Org id → (time zone, calling hours, calls a lead may get a day)."""
    found = {}
    for org_id, stored in read(world, select(Org.id, Org.settings)):
        s = parse_settings(stored)
        hours = time.fromisoformat(s.calling_hours_start), time.fromisoformat(s.calling_hours_end)
        found[org_id] = (ZoneInfo(s.timezone), *hours, s.max_calls_per_lead_per_day)
    return found


def test_every_org_has_calls_applications_loans_and_settled_statements(world):
    assert [org.name for org in world.summary] == ["融信总部", "深圳城市合伙人", "成都城市合伙人"]
    for org in world.summary:
        assert org.leads > 0 and org.applications > 0 and org.loans > 0, org
        assert org.statements > 0, org  # November, settled and approved on December 2
        assert 0.25 < org.connected / org.calls < 0.6, org  # a telesales floor's connect rate


def test_every_org_has_applications_today_and_leads_at_every_stage(world):
    """The manager's "applications" tile (the wallboard's, the big screen's) shows today's, and
    every org's funnel goes on past qualified: the partners' small offices too."""
    with world.db.unit_of_work(SYSTEM, readonly=True) as session:
        today = {org.id: kpis_today(session, org.id, NOW) for org in session.scalars(select(Org))}
    assert all(figures["applications"] > 0 for figures in today.values()), today
    reached = read(
        world,
        select(Lead.org_id, Lead.reached_rank, func.count()).group_by(
            Lead.org_id, Lead.reached_rank
        ),
    )
    for org_id in today:
        at_least = {
            stage: sum(
                n for org, rank, n in reached if org == org_id and rank >= FUNNEL.index(stage)
            )
            for stage in ("applied", "approved", "disbursed")
        }
        assert min(at_least.values()) >= 5, (org_id, at_least)


def test_no_number_is_called_once_it_is_on_the_do_not_call_list(world):
    listed: dict[str, datetime] = {}
    for phone, at in read(world, select(DncEntry.phone_bidx, DncEntry.created_at)):
        listed[phone] = min(at, listed.get(phone, at))  # any org's entry counts
    assert listed, "some callees asked not to be called again"
    calls = read(
        world,
        select(Lead.phone_bidx, Call.started_at).join(Lead, Lead.id == Call.lead_id),
    )
    assert [(p, at) for p, at in calls if p in listed and at >= listed[p]] == []


def test_every_call_is_inside_the_calling_hours_and_under_the_daily_caps(world):
    rules = zones(world)
    calls = read(world, select(Call.org_id, Call.lead_id, Call.caller_id_id, Call.started_at))
    caps = dict(read(world, select(CallerId.id, CallerId.daily_cap)))
    per_lead, per_number = Counter(), Counter()
    for org_id, lead_id, caller_id, started in calls:
        zone, opens, closes, _ = rules[org_id]
        local = started.astimezone(zone)
        assert opens <= local.time() < closes, (lead_id, local)
        per_lead[lead_id, local.date()] += 1
        per_number[caller_id, local.date()] += 1
    most = max(limit for *_, limit in rules.values())
    assert max(per_lead.values()) <= most
    assert all(n <= caps[caller_id] for (caller_id, _), n in per_number.items())


def test_a_lead_has_one_owner_at_a_time_and_only_its_owner_calls_it(world):
    events = read(
        world,
        select(LeadEvent.lead_id, LeadEvent.kind, LeadEvent.at, LeadEvent.data)
        .where(LeadEvent.kind.in_(OWNERSHIP))
        .order_by(LeadEvent.lead_id, LeadEvent.at, LeadEvent.id),
    )
    owners: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    for lead_id, kind, at, data in events:
        history = owners[lead_id]
        current = history[-1][1] if history else None
        if kind in ("claimed", "assigned"):
            assert current is None, (lead_id, kind, current)
        else:
            assert current is not None and current == data["from_user_id"], (lead_id, kind)
        history.append((at, data["to_user_id"]))
    for lead_id, owner_id in read(world, select(Lead.id, Lead.owner_id)):
        assert (owners[lead_id][-1][1] if owners[lead_id] else None) == owner_id, lead_id
    for lead_id, agent_id, started in read(
        world, select(Call.lead_id, Call.agent_id, Call.started_at)
    ):
        then = [owner for at, owner in owners[lead_id] if at <= started]
        assert then and then[-1] == agent_id, (lead_id, started)


def test_stage_history_moves_only_along_the_funnel(world):
    events = read(
        world,
        select(LeadEvent.lead_id, LeadEvent.data)
        .where(LeadEvent.kind == "stage")
        .order_by(LeadEvent.lead_id, LeadEvent.at, LeadEvent.id),
    )
    stage: dict[int, str] = defaultdict(lambda: "new")
    moves = Counter()
    for lead_id, data in events:
        assert data["from"] == stage[lead_id], (lead_id, data)
        assert data["to"] in TRANSITIONS[data["from"]], (lead_id, data)
        if data["to"] == "lost":
            assert data.get("reason"), lead_id
        stage[lead_id] = data["to"]
        moves[data["to"]] += 1
    for lead_id, now_in in read(world, select(Lead.id, Lead.stage)):
        assert stage[lead_id] == now_in, lead_id
    assert {"contacted", "qualified", "applied", "approved", "disbursed", "lost"} <= set(moves)


def test_every_application_and_loan_is_under_the_apr_cap(world):
    aprs = [apr for (apr,) in read(world, select(Application.apr))]
    aprs += [apr for (apr,) in read(world, select(Loan.apr))]
    assert aprs and max(aprs) <= Decimal("0.36")


def test_nothing_in_the_history_is_stamped_after_its_present(world):
    """Every service the history goes through takes the simulated clock: a row stamped with
    the wall clock instead would sit after NOW (the suite runs later than NOW)."""
    stamped = [
        (Call, ("started_at", "answered_at", "ended_at")),
        (LeadEvent, ("at",)),
        (Followup, ("created_at",)),
        (Application, ("created_at", "updated_at", "submitted_at", "decided_at")),
        (Contract, ("created_at", "signed_at")),
        (Loan, ("disbursed_at", "created_at", "cancelled_at")),
        (Repayment, ("paid_at", "created_at")),
        (CollectionRecord, ("created_at",)),
        (DncEntry, ("created_at",)),
        (Notification, ("created_at",)),
        (AgentStateSpan, ("started_at", "ended_at")),
        (Settlement, ("created_at", "settled_at")),
        (Statement, ("created_at", "approved_at", "paid_at")),
        (StatementLine, ("created_at",)),
    ]
    late = {
        f"{model.__tablename__}.{name}": n
        for model, names in stamped
        for name in names
        if (n := read(world, select(func.count()).where(getattr(model, name) > NOW))[0][0])
    }
    assert late == {}


def test_leads_are_scored_and_the_better_qualified_score_higher(world):
    scores = [score for (score,) in read(world, select(Lead.score))]
    assert sum(1 for s in scores if s == 0) < len(scores) / 20
    assert len(set(scores)) > 10
    worked = read(world, select(func.count()).select_from(LeadScore))[0][0]
    assert worked > 0  # breakdowns stored for the leads the floor worked
    by_stage = dict(read(world, select(Lead.stage, func.avg(Lead.score)).group_by(Lead.stage)))
    assert by_stage["disbursed"] > by_stage["lost"]


def test_building_again_leaves_the_world_as_it_is(world):
    before = read(world, select(func.count()).select_from(Call))[0][0]
    users, summary = build_on(world, SMALL)
    assert summary is None and {u.username for u in users} >= {"manager", "sz_admin"}
    assert read(world, select(func.count()).select_from(Call))[0][0] == before


def test_a_rebuild_replaces_the_history_and_keeps_the_people(fresh):
    place = fresh("demo-world-rebuild")
    build_on(place, WorldOptions(days=3, leads_per_day=6, now=NOW))
    arrivals = select(Lead.phone_masked, Lead.created_at)
    first = set(read(place, arrivals))
    people = sorted(read(place, select(User.id, User.username)))

    _, summary = build_on(place, WorldOptions(3, 6, seed=7, now=NOW), rebuild=True)

    assert summary is not None and sum(org.calls for org in summary) > 0
    assert sorted(read(place, select(User.id, User.username))) == people
    second = set(read(place, arrivals))
    assert len(second) == sum(org.leads for org in summary) and first.isdisjoint(second)


def test_a_world_built_before_the_calling_hours_has_nothing_today(fresh):
    """At 06:00 nobody has called anyone yet: today is empty (the live demo's agents start it
    when the hours open), yesterday is a full day."""
    place = fresh("demo-world-dawn")
    dawn = datetime(2026, 12, 3, 6, 0, tzinfo=SHANGHAI)
    build_on(place, WorldOptions(days=3, leads_per_day=20, now=dawn))
    with place.db.unit_of_work(SYSTEM, readonly=True) as session:
        today = [kpis_today(session, org.id, dawn) for org in session.scalars(select(Org))]
    assert [(t["calls"], t["applications"]) for t in today] == [(0, 0)] * 3
    started = [at for (at,) in read(place, select(Call.started_at))]
    assert started and max(started) < dawn - timedelta(hours=9)  # before 21:00 yesterday
