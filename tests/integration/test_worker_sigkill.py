"""A worker killed with SIGKILL in the middle of an org re-score: a new worker picks the job up on
its own, resumes the run, and every lead ends scored exactly once by it."""

from __future__ import annotations

import contextlib
from uuid import uuid4

import pytest
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import func, insert, select

from crm.db import make_engine, utcnow
from crm.leads.models import Lead
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.scoring.models import ScoringRun

# registers the job tests' fixture here: a migrated SQLite file for this module and the Redis
# database their workers use (the workers here serve only the scoring queue, theirs default)
from tests.integration.test_jobs_rq import worker_env  # noqa: F401
from tests.integration.test_scoring import assert_each_lead_scored_once, batches_of
from tests.rq_worker import kill, start_worker, stop, wait_until
from workers.runner import RQJobRunner

pytestmark = pytest.mark.integration

LEADS = 6_000
BATCH = 200


@pytest.fixture
def env(request) -> dict[str, str]:
    return request.getfixturevalue("worker_env")


@pytest.fixture
def database(env):
    engine = make_engine(env["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def redis(env):
    client = Redis.from_url(env["REDIS_URL"])
    yield client
    client.close()


def seed_org(engine) -> int:
    """An org and LEADS leads, written directly: scoring reads no personal data, so the
    encrypted columns hold placeholders."""
    now = utcnow()
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(Org.__table__).returning(Org.__table__.c.id),
            {
                "name": "sigkill",
                "kind": "hq",
                "cities": ["北京"],
                "settings": OrgSettings().model_dump(),
                "created_at": now,
            },
        ).scalar_one()
        conn.execute(
            insert(Lead.__table__),
            [
                {
                    "org_id": org_id,
                    "phone_enc": "x",
                    "phone_bidx": f"bidx-{n}",
                    "phone_masked": "138****0000",
                    "pii_key_id": "k1",
                    "is_mobile": n % 7 != 0,
                    "phone_city": "北京" if n % 3 else "上海",
                    "source": f"source-{n % 5}",
                    "qualifications": {"provident_fund": n % 2 == 0},
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(LEADS)
            ],
        )
    return org_id


def run_state(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(
            select(ScoringRun.scored, ScoringRun.total).where(ScoringRun.id == run_id)
        ).first()


def test_sigkill_mid_batch_then_a_new_worker_scores_each_lead_exactly_once(env, database, redis):
    org_id = seed_org(database)
    runner = RQJobRunner(redis)  # the product's retry back-off
    job_id = uuid4().hex  # the run id is the job id, as the API passes it
    runner.enqueue(
        "workers.jobs.score_leads.run",
        job_id,
        org_id,
        None,
        None,
        None,
        BATCH,
        org_id=org_id,
        user_id=None,
        queue="scoring",
        job_id=job_id,
    )
    first = second = None
    try:
        first = start_worker(env, "scoring")
        wait_until(lambda: (state := run_state(database, job_id)) and state.scored >= 3 * BATCH)
        # the horse, mid-batch, goes down with its worker rather than run on unwatched
        kill(first)
        killed_at = run_state(database, job_id)
        assert 0 < killed_at.scored < killed_at.total == LEADS
        assert runner.fetch(job_id).status == "started"  # as RQ left it

        second = start_worker(env, "scoring")
        info = wait_until(lambda: (i := runner.fetch(job_id)).status == "finished" and i)
    finally:
        logs = [stop(worker) for worker in (first, second)]
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(job_id, connection=redis).delete()

    # found at the new worker's start, not ~90 s later when RQ's heartbeat would have expired
    assert f"requeued or failed jobs of dead workers: {job_id}" in logs[1]
    assert info.result == {"run_id": job_id, "scored": LEADS, "total": LEADS}
    with database.connect() as conn:
        batches = batches_of(conn, job_id)
        ids = conn.scalars(select(Lead.id).where(Lead.org_id == org_id)).all()
        unscored = conn.scalar(select(func.count()).where(Lead.score == 0))
    assert_each_lead_scored_once(batches, ids)
    assert unscored == 0
