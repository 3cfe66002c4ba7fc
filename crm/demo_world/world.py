"""Building the demo world: the demo's people and products (crm/demo.py), then every org's
history day by day up to the present, each day one transaction of the floor's and the loan
desk's work between the night's scheduled jobs; and what the world holds when done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from crm.auth.passwords import Passwords
from crm.auth.service import actor_for_user
from crm.commissions.models import Statement
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.demo import seed
from crm.demo_world import floor, loans, money, routine, servicing, setup
from crm.demo_world.arrivals import Arrivals, OrgMarket, arrivals
from crm.demo_world.options import FLOORS, WorldOptions
from crm.demo_world.people import PhoneBook
from crm.demo_world.staff import Office, Run, offices
from crm.leads.models import Lead
from crm.loans.models import Application, Installment, Loan
from crm.loans.storage import DocumentStorage
from crm.orgs.models import User
from crm.scoring.service import rescore
from crm.sweeps import Transaction
from dialer.kpis import kpis_today
from dialer.models import Call

# the business grows over the history: the first day has this share of the last day's leads
FIRST_DAY_VOLUME = 0.6
# from when today's floor has brought an application (_good_day)
FIRST_APPLICATION_BY = time(11, 0)
Progress = Callable[[date], None]


@dataclass(frozen=True)
class OrgSummary:
    name: str
    leads: int
    calls: int
    connected: int
    applications: int
    loans: int
    overdue_loans: int
    statements: int


def build(
    transaction: Transaction,
    passwords: Passwords,
    vault: PiiVault,
    documents: DocumentStorage,
    options: WorldOptions,
    rebuild: bool = False,
    progress: Progress = lambda _: None,
) -> tuple[list[User], list[OrgSummary] | None]:
    """The demo's users, and the world built (None: one was there and `rebuild` was not
    asked, so it was left alone)."""
    now = options.now or utcnow()
    with transaction() as session:
        users = seed(session, passwords, vault, leads=False)
        if setup.world_exists(session):
            if not rebuild:
                return users, None
            setup.clear_world(session)
        orgs = setup.demo_orgs(session)
        admin = next(u for u in users if u.role == "admin")
        setup.furnish(session, orgs, actor_for_user(session, admin.id))
        floors = offices(session, [org.name for org in orgs])
    run = Run(options.seed, now, vault, documents, floors[0])
    history(transaction, run, floors, options, progress)
    with transaction() as session:
        return users, summarize(session, floors, now)


def history(
    transaction: Transaction,
    run: Run,
    floors: list[Office],
    options: WorldOptions,
    progress: Progress,
) -> None:
    first = run.today - timedelta(days=options.days - 1)
    markets = [_market(office, options) for office in floors]
    phones = PhoneBook(run.rng("phones"))
    org_ids = [office.org_id for office in floors]
    for offset in range(options.days):
        day = first + timedelta(days=offset)
        growth = FIRST_DAY_VOLUME + (1 - FIRST_DAY_VOLUME) * offset / max(1, options.days - 1)
        routine.overnight(transaction, run, day)
        with transaction() as session:
            touched: set[Lead] = set()
            for office, market in zip(floors, markets, strict=True):
                loans.review_day(session, run, office, day)
                loans.agents_day(session, run, office, day)
                loans.payout_day(session, run, office, day)
                servicing.book_day(session, run, office, day)
                came = arrivals(market, day, office.zone, growth, phones, run.seed)
                if day == run.today:
                    touched |= _good_day(session, run, office, day, came)
                else:
                    touched |= floor.work_day(session, run, office, day, came)
            # what ScoreRefresh does a second after each disposition, once for the day
            evening = min(run.hq.at(day, time(20, 0)), run.now)
            rescore(session, sorted(touched, key=lambda lead: lead.id), evening)
            money.month_day(session, run, floors, day, first)
        routine.reminders(transaction, run, day)
        progress(day)
    routine.rescore(transaction, org_ids, run.today, run.now)


def _good_day(session: Session, run: Run, office: Office, day: date, came: Arrivals) -> set[Lead]:
    """Today's floor up to the present, with an application by now once the morning has had
    time for one: a demo is shown on a good day. A day without one is rolled back and worked
    again with the office's morning appointment (floor.book_appointment), the same day in all
    else (the same leads and callees, the same random stream). Before the calling hours open,
    today has nothing to show, as in any office: the wallboard starts from zero."""
    state = {lead_id: replace(m) for lead_id, m in run.memory.items()}
    inserted, sources = came.inserted, set(came.sources)
    savepoint = session.begin_nested()
    touched = floor.work_day(session, run, office, day, came)
    # what the wallboard's tile counts (dialer/kpis.py)
    if run.now < office.at(day, FIRST_APPLICATION_BY) or _applications_today(session, run, office):
        savepoint.commit()
        return touched
    savepoint.rollback()
    run.memory, came.inserted, came.sources = state, inserted, sources
    return floor.work_day(session, run, office, day, came, appointment=True)


def _applications_today(session: Session, run: Run, office: Office) -> int:
    return kpis_today(session, office.org_id, run.now)["applications"]


def summarize(session: Session, floors: list[Office], now: datetime) -> list[OrgSummary]:
    found = []
    for office in floors:
        today = now.astimezone(office.zone).date()
        org = office.org_id
        calls, connected = session.execute(
            select(func.count(), func.count(Call.answered_at)).where(Call.org_id == org)
        ).one()
        overdue = select(func.count(func.distinct(Installment.loan_id))).where(
            Installment.org_id == org,
            Installment.status != "paid",
            Installment.due_date < today,
            Installment.loan_id.in_(select(Loan.id).where(Loan.status == "active")),
        )
        found.append(
            OrgSummary(
                name=office.name,
                leads=_count(session, Lead, Lead.org_id == org),
                calls=calls,
                connected=connected,
                applications=_count(session, Application, Application.org_id == org),
                loans=_count(session, Loan, Loan.org_id == org),
                overdue_loans=session.scalar(overdue) or 0,
                statements=_count(session, Statement, Statement.org_id == org),
            )
        )
    return found


def describe(world: list[OrgSummary] | None) -> list[str]:
    """What seed-demo prints about the world."""
    if world is None:
        return ["the demo world is there already: left as it is (--rebuild builds it anew)"]
    head = "  {:<10} {:>7} {:>7} {:>7} {:>6} {:>6} {:>7} {:>6}"
    lines = [head.format("org", "leads", "calls", "connect", "apps", "loans", "overdue", "stmts")]
    for s in world:
        figures = (s.leads, s.calls, s.connected, s.applications, s.loans, s.overdue_loans)
        lines.append(head.format(s.name[:10], *figures, s.statements))
    return ["demo world:", *lines]


def weekly(say: Callable[[str], None]) -> Progress:
    """Progress for a terminal: a line at the end of each simulated week."""
    return lambda day: say(f"  … {day.isoformat()}") if day.weekday() == 6 else None


def _count(session: Session, model: type, condition: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(condition)) or 0


def _market(office: Office, options: WorldOptions) -> OrgMarket:
    share = FLOORS[office.name][0]
    return OrgMarket(office.org_id, office.cities, options.leads_per_day * share, office.hq)
