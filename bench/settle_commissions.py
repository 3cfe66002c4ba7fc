"""Time the month's commission settlement: 100,000 disbursed loans for 1,000 payees.

    .venv/bin/python -m bench.settle_commissions [--db postgres|sqlite] [--loans 100000]
        [--agents 900] [--teams 90] [--partners 10] [--previous-loans 10000]
        [--cancelled 0.03] [--runs 1] [--no-marginal] [--profile] [--seed 5]

People: an HQ org and `--partners` partner orgs; `--teams` teams (half at HQ, the rest spread
over the partners), each with its team lead; `--agents` agents over the teams. Payees are the
agents, the team leads and the partner orgs (900 + 90 + 10 = 1,000). One lender and product at
HQ (tests/loan_rows.make_lender), offered to every partner. Plans, made through
crm.commissions.plans.create_plan from 2026-10-01: HQ's default, tiered on the agent's monthly
volume (`whole`; thresholds scale with the expected volume per agent, so agents spread over the
three tiers at any --loans), and an override (flat splits, a monthly cap, accrual once a fee is
collected) for every other partner.

Loans: one lead (encrypted columns as the import stores them), one application and one loan
each, written by Core executemany in batches (bench.generate.LeadFaker names and phones, a few
thousand encrypted once and repeated with a synthetic blind index). The agent of a loan is
drawn with skewed weights, the loan carries the agent's team and team lead, a service fee
(2-4 %) collected at payout and a channel fee (the product's 2 %) collected 5-40 days later
(or not yet). `--previous-loans` are paid out in 2026-10, `--loans` in 2026-11 (Asia/Shanghai).

October is settled by the job and approved through crm.commissions.service.approve (so its
lines are approved lines, written by the code under test), then `--cancelled` of its loans are
cancelled in November: November's settlement claws their shares back. No installments are
written: the overdue clawback could not trigger in November for loans paid out in October
(first due date in November + 30 days), so they would only add rows to one look-up.

Timed: workers.jobs.settle_commissions.run, called once per settlement id (each org in its own
unit of work, as the job does for its list), with the wall time, this process's CPU and the CPU
of the PostgreSQL backend serving it (one pooled connection). Then `--runs` re-runs of the
drafts (recomputed: the totals must not change) and, unless --no-marginal, a re-run with HQ's
plan switched to `marginal` tiers. Goal: the month's settlement of all orgs under 60 s.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from bench import common
from bench.generate import LeadFaker
from crm.auth.actor import SYSTEM
from crm.commissions import service
from crm.commissions.models import CommissionPlan, Settlement, Statement, StatementLine
from crm.commissions.plans import create_plan
from crm.commissions.schemas import NewPlan, NewSettlement
from crm.commissions.settlement import month_bounds
from crm.extensions import db, runtime
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead
from crm.loans.models import Application, Loan, Product, ProductOffer
from crm.orgs.models import Org, Team, User
from crm.orgs.schemas import OrgSettings
from tests.loan_rows import make_lender
from workers.jobs import settle_commissions as job

SHANGHAI = ZoneInfo("Asia/Shanghai")
PREVIOUS, PERIOD = "2026-10", "2026-11"
# the data's "now": a channel fee the lender pays later than this is not collected yet
DATA_NOW = datetime(2026, 12, 3, 18, tzinfo=SHANGHAI)
CENT = Decimal("0.01")
SERVICE_RATES = (Decimal("0.02"), Decimal("0.025"), Decimal("0.03"), Decimal("0.04"))
MEAN_AMOUNT = 270_000  # of randrange(3, 52) * 10,000
BATCH = 5_000
TEMPLATES = 2_000  # leads encrypted for real, then repeated: encryption is not under test


@dataclass
class People:
    hq: int
    partners: list[int]
    agents: list[int]
    # agent -> (org, team, team lead)
    desk: dict[int, tuple[int, int, int]]
    product: Product
    lender_id: int


def seed_people(agents: int, teams: int, partners: int) -> People:
    with db.unit_of_work(SYSTEM) as session:
        settings = OrgSettings().model_dump()
        orgs = [Org(name="bench-hq", kind="hq", cities=["北京"], settings=settings)]
        orgs += [
            Org(name=f"bench-partner-{n}", kind="partner", cities=["深圳"], settings=settings)
            for n in range(partners)
        ]
        session.add_all(orgs)
        session.flush()
        hq, others = orgs[0].id, [o.id for o in orgs[1:]]
        at_hq = math.ceil(teams / 2) if others else teams
        owners = [hq if t < at_hq else others[t % len(others)] for t in range(teams)]
        team_rows = [Team(org_id=org, name=f"第{t + 1}组") for t, org in enumerate(owners)]
        session.add_all(team_rows)
        session.flush()
        leads = [_user(f"bench_lead_{t.id}", "team_lead", t) for t in team_rows]
        roles = [("agent" if t.org_id == hq else "partner_agent", t) for t in team_rows]
        people = [_user(f"bench_agent_{a}", *roles[a % teams]) for a in range(agents)]
        session.add_all(leads + people)
        session.flush()
        for team, lead in zip(team_rows, leads, strict=True):
            team.lead_user_id = lead.id
        desk = {u.id: (u.org_id, u.team_id, leads[a % teams].id) for a, u in enumerate(people)}
    lender, product = make_lender(orgs[0])
    with db.unit_of_work(SYSTEM) as session:
        session.add_all(ProductOffer(org_id=o, product_id=product.id) for o in others)
    return People(hq, others, list(desk), desk, product, lender.id)


def _user(username: str, role: str, team: Team) -> User:
    # nobody logs in: no password hash worth the argon2 time
    return User(
        org_id=team.org_id,
        username=username,
        display_name=username,
        role=role,
        team_id=team.id,
        password_hash="-",
    )


def make_plans(people: People, loans: int) -> None:
    """HQ's tiered default and every other partner's override (see the module docstring)."""
    volume = loans / max(len(people.agents), 1) * MEAN_AMOUNT
    step = Decimal(10_000)
    low, high = (Decimal(volume * f) // step * step for f in (0.7, 1.4))
    share = {"service_fee_split": {"agent": "0.10", "team_lead": "0.03", "org": "0.30"}}
    share["channel_fee_split"] = {"agent": "0.05", "team_lead": "0.02", "org": "0.20"}
    tiers = [{"min_volume": "0", "agent_rate": "0.10"}]
    tiers += [{"min_volume": str(v), "agent_rate": r} for v, r in ((low, "0.15"), (high, "0.20"))]
    plans = [{"name": "标准方案", "org_id": people.hq, **share, "tiers": tiers}]
    # an agent at the expected volume earns ~0.12 × 3 % + 0.06 × 2 % of it: cap below that
    cap = (Decimal(volume) * Decimal("0.0048") * Decimal("0.9")).quantize(CENT)
    override = {
        "service_fee_split": {"agent": "0.12", "team_lead": "0.04", "org": "0.35"},
        "channel_fee_split": {"agent": "0.06", "team_lead": "0.02", "org": "0.25"},
        "agent_monthly_cap": cap,
        "accrue_on": "fee_collected",
    }
    plans += [{"name": "合作方方案", "org_id": org, **override} for org in people.partners[::2]]
    with db.unit_of_work(SYSTEM) as session:
        for body in plans:
            body |= {"effective_from": "2026-10-01", "clawback_days": 90}
            # Python input, not JSON: strict NewPlan refuses a cap given as a JSON string or number
            create_plan(session, SYSTEM, NewPlan.model_validate(body))


def lead_templates(seed: int) -> list[dict[str, Any]]:
    fake, now = LeadFaker(seed), DATA_NOW
    drafts = (
        LeadDraft(phone=str(fake.mobile()), source="官网表单", name=fake.name(), city=fake.city())
        for _ in range(TEMPLATES)
    )
    return [lead_columns(runtime.vault, d, 0, None, now) for d in drafts]


def month_rows(
    people: People, period: str, first_id: int, count: int, seed: int
) -> Iterator[tuple[list[dict], list[dict], list[dict]]]:
    """(leads, applications, loans) in batches; loan i has lead i and application i."""
    rng = random.Random(f"{seed}:{period}")
    templates = lead_templates(seed)
    # a few agents sell far more than most: their volume reaches the upper tiers
    weights = [rng.lognormvariate(0, 0.7) for _ in people.agents]
    picks = rng.choices(people.agents, weights, k=count)
    start, end = month_bounds(period, SHANGHAI)
    span = (end - start).total_seconds()
    for first in range(0, count, BATCH):
        batch: tuple[list[dict], list[dict], list[dict]] = ([], [], [])
        for n in range(first, min(first + BATCH, count)):
            at = start + timedelta(seconds=span * (n + rng.random()) / count)
            row_id, agent = first_id + n, picks[n]
            org, team, lead = people.desk[agent]
            amount = Decimal(rng.randrange(3, 52) * 10_000)
            fee = (amount * rng.choice(SERVICE_RATES)).quantize(CENT)
            paid = at + timedelta(days=rng.uniform(5, 40))
            batch[0].append(
                templates[n % TEMPLATES]
                | {"id": row_id, "org_id": org, "phone_bidx": f"bench{row_id:011d}"}
                | {"owner_id": agent, "claimed_at": at - timedelta(days=9), "stage": "disbursed"}
                | {"reached_rank": 5, "created_at": at - timedelta(days=10), "updated_at": at}
            )
            terms = {"org_id": org, "lead_id": row_id, "product_id": people.product.id}
            terms |= {"amount": amount, "term_months": 12, "annual_rate": Decimal("0.12")}
            terms |= {"service_fee": fee, "apr": Decimal("0.1655"), "agent_id": agent}
            terms |= {"effective_rate": Decimal("0.1268"), "created_at": at - timedelta(days=5)}
            batch[1].append(
                terms
                | {"id": row_id, "status": "disbursed", "updated_at": at, "decided_at": at}
                | {"repayment_method": people.product.repayment_method, "lender_fees": []}
            )
            batch[2].append(
                {k: v for k, v in terms.items() if k != "created_at"}
                | {"id": row_id, "application_id": row_id, "lender_id": people.lender_id}
                | {"team_id": team, "team_lead_id": lead, "disbursed_at": at}
                | {"repayment_method": people.product.repayment_method}
                | {"channel_fee": (amount * people.product.channel_fee_rate).quantize(CENT)}
                | {"status": "active", "service_fee_collected_at": at, "created_at": at}
                | {"channel_fee_collected_at": paid if paid < DATA_NOW else None}
            )
        yield batch


def load(people: People, months: Sequence[tuple[str, int]], seed: int) -> None:
    began, first_id = time.perf_counter(), 1
    for period, count in months:
        for leads, applications, loans in month_rows(people, period, first_id, count, seed):
            with db.engine.begin() as conn:
                for table, rows in ((Lead, leads), (Application, applications), (Loan, loans)):
                    conn.execute(insert(table.__table__), rows)
        first_id += count
        print(f"  {count:,} loans paid out in {period}, {time.perf_counter() - began:.0f} s")
    if db.engine.dialect.name == "postgresql":  # the rows came with their ids
        with db.engine.begin() as conn:
            for table in ("leads", "applications", "loans"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {first_id})"
                )
    common.vacuum("leads", "applications", "loans")


def start(period: str) -> list[int]:
    """The month's settlements of every org, as POST /api/v1/settlements creates them."""
    with db.unit_of_work(SYSTEM) as session:
        body = NewSettlement(period=period)
        return service.start_settlement(session, SYSTEM, body, lambda *_: None)[1]


def close_previous_month(previous: int, cancelled: float, seed: int) -> int:
    """Settle and approve October, then cancel some of its loans in November."""
    ids = start(PREVIOUS)
    began = time.perf_counter()
    job.run(ids)
    with db.unit_of_work(SYSTEM) as session:
        for settlement_id in ids:
            service.approve(session, SYSTEM, settlement_id)
    rng = random.Random(seed)
    chosen = rng.sample(range(1, previous + 1), round(previous * cancelled))
    with db.engine.begin() as conn:
        for n, loan_id in enumerate(chosen):
            when = datetime(2026, 11, 1 + n % 29, 15, tzinfo=SHANGHAI)
            conn.execute(
                update(Loan)
                .where(Loan.id == loan_id)
                .values(status="cancelled", cancelled_at=when, cancel_reason="借款人撤回")
            )
    print(f"  {PREVIOUS} settled and approved in {time.perf_counter() - began:.1f} s")
    return len(chosen)


@dataclass
class Measured:
    org: str
    loans: int
    statements: int
    lines: int
    clawbacks: int
    seconds: float
    python_cpu: float
    database_cpu: float | None
    total: str


def settle_one(settlement_id: int, names: dict[int, str], loans: dict[int, int]) -> Measured:
    """One settlement by the job, with this process's and the database backend's CPU."""
    backend = _backend()
    cpu, database = time.process_time(), _cpu(backend)
    began = time.perf_counter()
    (result,) = job.run([settlement_id])["settlements"]
    seconds = time.perf_counter() - began
    python_cpu, database_cpu = time.process_time() - cpu, _cpu(backend)
    if "error" in result:
        raise SystemExit(f"settlement {settlement_id} failed: {result['error']}")
    if database is not None and database_cpu is not None and _backend() == backend:
        database_cpu -= database
    else:
        database_cpu = None
    with db.engine.connect() as conn:
        org_id = conn.scalar(select(Settlement.org_id).where(Settlement.id == settlement_id))
        kinds = dict(
            conn.execute(
                select(StatementLine.kind, func.count())
                .join(Statement, Statement.id == StatementLine.statement_id)
                .where(Statement.settlement_id == settlement_id)
                .group_by(StatementLine.kind)
            ).all()
        )
    return Measured(
        names.get(org_id, "-"),
        loans.get(org_id, 0),
        result["statements"],
        sum(kinds.values()),
        kinds.get("clawback", 0),
        seconds,
        python_cpu,
        database_cpu,
        result["total"],
    )


def _backend() -> int | None:
    with db.engine.connect() as conn:
        return common.server_pid(conn)


def _cpu(backend: int | None) -> float | None:
    return None if backend is None else common.process_cpu_seconds(backend)


def settle_all(ids: list[int], profile: bool = False) -> list[Measured]:
    with db.engine.connect() as conn:
        names = dict(conn.execute(select(Org.id, Org.name)).all())
        month_start = month_bounds(PERIOD, SHANGHAI)[0]
        loans = dict(
            conn.execute(
                select(Loan.org_id, func.count())
                .where(Loan.disbursed_at >= month_start, Loan.status != "cancelled")
                .group_by(Loan.org_id)
            ).all()
        )
    common.checkpoint()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    measured = [settle_one(i, names, loans) for i in ids]
    if profiler:
        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
    return measured


def summary_row(label: str, runs: list[Measured]) -> list[object]:
    seconds = sum(m.seconds for m in runs)
    lines = sum(m.lines for m in runs)
    database = [m.database_cpu for m in runs]
    return [
        label,
        sum(m.loans for m in runs),
        sum(m.statements for m in runs),
        lines,
        sum(m.clawbacks for m in runs),
        max(m.seconds for m in runs),
        seconds,
        lines / seconds,
        sum(m.python_cpu for m in runs),
        "-" if None in database else sum(database),
    ]


def org_rows(runs: list[Measured]) -> list[list[object]]:
    rows = []
    for m in runs:
        database = "-" if m.database_cpu is None else m.database_cpu
        rows.append([m.org, m.loans, m.statements, m.lines, m.clawbacks, m.seconds])
        rows[-1] += [m.lines / m.seconds, m.python_cpu, database, m.total]
    return rows


def use_marginal_tiers(hq: int) -> None:
    # behind create_plan's back: it rightly refuses to rewrite a plan in force in an approved
    # month (October); only the drafts of November are recomputed with it here
    with db.unit_of_work(SYSTEM) as session:
        plan = session.scalars(select(CommissionPlan).where(CommissionPlan.org_id == hq)).one()
        plan.terms = {**plan.terms, "tier_mode": "marginal"}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=900)
    parser.add_argument("--teams", type=int, default=90)
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--previous-loans", type=int, default=None, help="default: --loans / 10")
    parser.add_argument("--cancelled", type=float, default=0.03, help="of the previous month")
    parser.add_argument("--runs", type=int, default=1, help="re-runs of the drafts")
    parser.add_argument("--no-marginal", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the first settlement")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    previous = args.loans // 10 if args.previous_loans is None else args.previous_loans
    kind = "postgresql" if args.db == "postgres" else "sqlite"
    with common.scratch_database(kind) as url:
        common.make_app(url)
        if kind == "postgresql":  # one connection: its backend is the one whose CPU is read
            db.configure(url, pool_size=1, max_overflow=0)
        print(common.machine_note())
        people = seed_people(args.agents, args.teams, args.partners)
        make_plans(people, args.loans)
        print(f"{kind}: loading {previous:,} + {args.loans:,} loans")
        load(people, [(PREVIOUS, previous), (PERIOD, args.loans)], args.seed)
        cancelled = close_previous_month(previous, args.cancelled, args.seed)
        common.vacuum("loans", "commission_lines", "commission_statements")
        ids = start(PERIOD)
        first = settle_all(ids, args.profile)
        runs = [("first run", first)]
        for n in range(args.runs):
            again = settle_all(ids)
            assert [m.total for m in again] == [m.total for m in first], "a re-run changed totals"
            assert [m.lines for m in again] == [m.lines for m in first]
            runs.append((f"re-run {n + 1} (same totals)", again))
        if not args.no_marginal:
            use_marginal_tiers(people.hq)
            runs.append(("re-run, HQ plan marginal", settle_all(ids)))
        payees = args.agents + args.teams + args.partners
        print(
            f"\n{kind}, {PERIOD}: {args.loans:,} loans, {payees:,} possible payees in "
            f"{len(ids)} orgs; {PREVIOUS}: {previous:,} loans approved, {cancelled:,} cancelled"
        )
        header = ["org (first run)", "loans", "statements", "lines", "clawbacks", "seconds"]
        header += ["lines/s", "py cpu s", "pg cpu s", "total ¥"]
        print(common.table(header, org_rows(first)))
        print()
        header = ["run (all orgs)", "loans", "statements", "lines", "clawbacks"]
        header += ["max org s", "seconds", "lines/s", "py cpu s", "pg cpu s"]
        print(common.table(header, [summary_row(label, m) for label, m in runs]))
        worst = max(sum(m.seconds for m in measured) for _, measured in runs)
        print(f"goal: < 60 s: {'met' if worst < 60 else 'not met'} (slowest run {worst:.1f} s)")
        print(common.machine_note())


if __name__ == "__main__":
    main()
