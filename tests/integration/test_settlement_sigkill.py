"""A worker killed with SIGKILL in the middle of a month's settlement, on PostgreSQL with a real
RQ worker: each org's settlement is one transaction, so the killed one leaves nothing; a new
worker picks the job up, and the retry settles the month as a clean run does: one statement
per payee, the same totals and lines, no line twice. And a settlement whose job will never run
again can be started anew instead of staying "being settled" for ever."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import Engine, Row, select, text
from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM
from crm.commissions import service
from crm.commissions.models import Settlement
from crm.commissions.settlement import settle
from crm.db import make_engine
from crm.extensions import db, runtime
from crm.loans.models import Loan
from crm.migrate import upgrade_to_head
from crm.orgs.models import Org
from tests.loan_rows import Due, make_lender, make_loan
from tests.private_services import own_databases_only
from tests.rq_worker import kill, start_worker, stop, wait_until, worker_environment
from tests.services import pg_schema, redis_or_skip
from workers.runner import JobInfo, JobsUnavailable, RQJobRunner

pytestmark = pytest.mark.integration

PERIOD = "2026-10"
PAID_OUT = datetime(2026, 10, 15, 2, tzinfo=UTC)
# each loan's fees: 1,500.00, of which its agent earns 10%, its team lead 5%, a partner org 30%
FEES = {"service_fee": Decimal("1000.00"), "channel_fee": Decimal("500.00")}
SHARE = {"agent": "0.10", "team_lead": "0.05", "org": "0.30"}
PLAN = {
    "name": "标准方案",
    "effective_from": "2026-10-01",
    "service_fee_split": SHARE,
    "channel_fee_split": SHARE,
}
LOANS_EACH = 10

# (payee key -> (total, each line's (kind, loan, amount) and how often it is there))
Figures = dict[str, tuple[Decimal, Counter]]


@pytest.fixture(scope="module")
def worker_env(app, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A PostgreSQL schema of the module's own, migrated, for the worker and the test alike;
    the worker gets the app's keyring, so it could read what the test's factories encrypt."""
    redis_or_skip()
    with pg_schema() as url:
        upgrade_to_head(url)
        instance = tmp_path_factory.mktemp("worker")
        yield worker_environment(url, instance, runtime.settings.pii_keys)


@pytest.fixture
def committed(worker_env) -> Iterator[Engine]:
    """This process's units of work (factories, tests/loan_rows.py, requests through the test
    client) commit to the worker's database, where the worker reads them, instead of joining
    the test's rolled-back transaction."""
    engine = make_engine(worker_env["DATABASE_URL"])
    saved = {name: db.sessionmaker.kw[name] for name in ("bind", "join_transaction_mode")}
    db.sessionmaker.configure(bind=engine, join_transaction_mode="conditional_savepoint")
    try:
        yield engine
    finally:
        db.sessionmaker.configure(**saved)
        engine.dispose()


@pytest.fixture
def redis(worker_env) -> Iterator[Redis]:
    client = Redis.from_url(worker_env["REDIS_URL"])
    yield client
    client.close()


@pytest.fixture
def rq_jobs(redis, monkeypatch) -> RQJobRunner:
    """The API enqueues on RQ, as it does with REDIS_URL set, with the product's retries."""
    runner = RQJobRunner(redis)
    monkeypatch.setattr(runtime, "jobs", runner)
    return runner


def office(make, kind: str, agents: int) -> tuple[Org, list[int]]:
    """An org with a team lead, `agents` agents in the team, LOANS_EACH loans each paid out in
    PERIOD; returns the org and its loans' ids."""
    org = make.org(kind)
    lead = make.user("team_lead", org=org)
    team = make.team(org=org, lead_user_id=lead.id)
    _, product = make_lender(org, f"{org.name}的银行")
    role = "agent" if kind == "hq" else "partner_agent"
    loans = []
    for _ in range(agents):
        agent = make.user(role, org=org, team_id=team.id)
        for _ in range(LOANS_EACH):
            loan, _ = make_loan(
                make.lead(org=org, owner=agent),
                product,
                [Due(date(2027, 4, 15), Decimal("20000.00"))],
                agent=agent,
                disbursed_at=PAID_OUT,
                team_id=team.id,
                team_lead_id=lead.id,
                **FEES,
            )
            loans.append(loan.id)
    return org, loans


def figures(session: Session, settlement_id: int) -> Figures:
    statements = service.statements_of(session, settlement_id)
    lines = service.lines_of(session, [s.id for s in statements])
    found = {
        s.payee_key: (s.total, Counter((ln.kind, ln.loan_id, ln.amount) for ln in lines[s.id]))
        for s in statements
    }
    assert len(found) == len(statements), "a payee stated twice"
    return found


def clean_run(engine: Engine, settlement_ids: list[int]) -> dict[int, Figures]:
    """What settling the month gives when nothing goes wrong: the same code, in a transaction
    rolled back afterwards."""
    with Session(engine, info={"actor": SYSTEM}) as session:
        for settlement_id in settlement_ids:
            settle(session, settlement_id)
        result = {sid: figures(session, sid) for sid in settlement_ids}
        session.rollback()
    return result


def stored(engine: Engine, settlement_ids: list[int]) -> dict[int, Figures]:
    with Session(engine, info={"actor": SYSTEM}) as session:
        return {sid: figures(session, sid) for sid in settlement_ids}


@contextmanager
def loan_locked(engine: Engine, loan_id: int) -> Iterator[Callable[[], Row | None]]:
    """Hold a loan's row as someone correcting that loan would (FOR UPDATE) until the block
    ends. A commission line references its loan, so the settlement writing that loan's lines
    waits here, in the middle of its transaction. Yields: (pid, query) of the server process
    waiting, if any."""
    with engine.connect() as holder, _autocommit(engine) as watcher:
        holding = holder.begin()
        holder.execute(select(Loan.id).where(Loan.id == loan_id).with_for_update())
        me = holder.scalar(text("SELECT pg_backend_pid()"))
        waiting = text(
            "SELECT pid, query FROM pg_stat_activity WHERE :me = ANY(pg_blocking_pids(pid))"
        )
        try:
            yield lambda: watcher.execute(waiting, {"me": me}).first()
        finally:
            holding.rollback()


def backend_alive(engine: Engine, pid: int) -> bool:
    with _autocommit(engine) as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
        return found is not None


def _autocommit(engine: Engine):
    # each read its own snapshot: pg_stat_activity is read once per transaction
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def statuses(client, headers) -> dict[int, tuple[str, str]]:
    page = client.get(f"/api/v1/settlements?period={PERIOD}", headers=headers).json
    return {s["id"]: (s["status"], s["total"]) for s in page["items"]}


@own_databases_only
def test_sigkill_mid_settlement_then_the_retry_settles_the_month_as_a_clean_run(
    committed, redis, rq_jobs, worker_env, client, make, auth
):
    engine = committed
    hq, _ = office(make, "hq", agents=2)
    partner, partner_loans = office(make, "partner", agents=1)
    finance = auth.login("finance", org=hq)
    assert client.post("/api/v1/commission-plans", json=PLAN, headers=finance).status_code == 201
    started = client.post("/api/v1/settlements", json={"period": PERIOD}, headers=finance)
    assert started.status_code == 202, started.json
    job_id, ids = started.json["job_id"], started.json["settlement_ids"]
    hq_run, partner_run = ids  # settled in this order, each in a transaction of its own
    clean = clean_run(engine, ids)

    first = second = None
    try:
        with loan_locked(engine, partner_loans[-1]) as waiting:
            first = start_worker(worker_env, "reports")
            stuck, query = wait_until(waiting)
            assert query.startswith("INSERT INTO commission_lines")
            # HQ's month is settled; the partner's is writing its lines
            assert statuses(client, finance) == {
                hq_run: ("draft", "4500.00"),
                partner_run: ("running", "0"),
            }
            job = rq_jobs.fetch(job_id)
            assert job.status == "started" and 0 < job.progress < 1
            kill(first)
        # the killed transaction's server process notices that its client is gone once it
        # may go on, and rolls back
        wait_until(lambda: not backend_alive(engine, stuck))
        assert stored(engine, ids) == {hq_run: clean[hq_run], partner_run: {}}

        second = start_worker(worker_env, "reports")
        wait_until(lambda: rq_jobs.fetch(job_id).status == "finished")
    finally:
        logs = [stop(worker) for worker in (first, second)]
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(job_id, connection=redis).delete()

    assert f"requeued or failed jobs of dead workers: {job_id}" in logs[1]
    after = stored(engine, ids)
    assert after == clean
    times = [n for payees in after.values() for _, lines in payees.values() for n in lines.values()]
    assert set(times) == {1}  # no line twice
    assert len(times) == 20 * 2 * 2 + 10 * 2 * 3  # each loan's two fees: agent, lead (, partner)
    # by hand: 1,500.00 of fees a loan, 10 loans an agent, 30% of the partner's to the partner
    assert after[partner_run][f"org:{partner.id}"][0] == Decimal("4500.00")
    assert statuses(client, finance) == {
        hq_run: ("draft", "4500.00"),
        partner_run: ("draft", "6750.00"),
    }


@pytest.mark.parametrize(
    ("job", "answer"),
    [
        (None, 202),  # gone: an embedded process restarted mid-way, or expired from Redis
        ("failed", 202),  # its worker killed once more than the retries
        ("started", 409),  # still at work (or not yet found dead)
        ("queued", 409),  # waiting for a retry
    ],
)
def test_a_month_left_running_by_a_job_that_will_not_run_again_can_be_settled_anew(
    client, make, auth, monkeypatch, job, answer
):
    hq = make.org("hq")
    finance = auth.login("finance", org=hq)
    dead = uuid4().hex
    with db.unit_of_work(SYSTEM) as session:
        session.add(Settlement(org_id=hq.id, period=PERIOD, status="running", job_id=dead))
    fetch = runtime.jobs.fetch
    left = None if job is None else JobInfo(dead, hq.id, None, job, 0.5, None, None)
    monkeypatch.setattr(runtime.jobs, "fetch", lambda i: left if i == dead else fetch(i))
    [listed] = client.get(f"/api/v1/settlements?period={PERIOD}", headers=finance).json["items"]
    if answer == 202:  # finance reads what happened, not "running" for ever
        assert (listed["status"], listed["error"]) == ("failed", service.STALLED)
    else:
        assert (listed["status"], listed["error"]) == ("running", None)

    again = client.post(
        "/api/v1/settlements", json={"period": PERIOD, "org_id": hq.id}, headers=finance
    )

    assert again.status_code == answer, again.json
    if answer == 202:
        job_id, [settlement_id] = again.json["job_id"], again.json["settlement_ids"]
        assert client.get(f"/api/v1/jobs/{job_id}", headers=finance).json["status"] == "finished"
        settled = client.get(f"/api/v1/settlements/{settlement_id}", headers=finance).json
        assert (settled["status"], settled["job_id"]) == ("draft", job_id)
    else:
        assert again.json["error"]["code"] == "settlement_running"


def test_a_running_month_reads_running_while_the_job_queue_cannot_be_asked(
    client, make, auth, monkeypatch
):
    hq = make.org("hq")
    finance = auth.login("finance", org=hq)
    with db.unit_of_work(SYSTEM) as session:
        session.add(Settlement(org_id=hq.id, period=PERIOD, status="running", job_id=uuid4().hex))

    def unreachable(_job_id):
        raise JobsUnavailable()

    monkeypatch.setattr(runtime.jobs, "fetch", unreachable)
    listed = client.get(f"/api/v1/settlements?period={PERIOD}", headers=finance)
    assert listed.status_code == 200
    assert [s["status"] for s in listed.json["items"]] == ["running"]
