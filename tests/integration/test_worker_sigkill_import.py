"""A worker killed with SIGKILL in the middle of a lead import: the import is one transaction, so
nothing of the killed run stays; a new worker picks the job up on its own and the retry creates
every lead exactly once."""

from __future__ import annotations

import contextlib
from uuid import uuid4

import pytest
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import func, insert, select

from crm.db import make_engine, utcnow
from crm.leads.models import Lead, Upload
from crm.orgs.models import Org, User
from crm.orgs.schemas import OrgSettings

# the job tests' migrated SQLite file and Redis database
from tests.integration.test_jobs_rq import worker_env  # noqa: F401
from tests.private_services import own_databases_only
from tests.rq_worker import kill, start_worker, stop, wait_until
from workers.runner import RQJobRunner

pytestmark = [pytest.mark.integration, own_databases_only]

ROWS = 8_000  # four batches of the importer's 2,000 rows


def seed_upload(engine) -> tuple[int, int, int]:
    """An org, its manager and a lead sheet of ROWS distinct mobiles: (org, user, upload)."""
    now = utcnow()
    sheet = "姓名,手机号码\n" + "".join(f"客户{n},139{n:08d}\n" for n in range(ROWS))
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(Org.__table__).returning(Org.__table__.c.id),
            {
                "name": f"import-{uuid4().hex[:6]}",
                "kind": "hq",
                "cities": ["北京"],
                "settings": OrgSettings().model_dump(),
                "created_at": now,
            },
        ).scalar_one()
        user_id = conn.execute(
            insert(User.__table__).returning(User.__table__.c.id),
            {
                "org_id": org_id,
                "username": f"importer-{uuid4().hex[:6]}",
                "display_name": "导入员",
                "role": "manager",
                "password_hash": "x",
                "active": True,
                "created_at": now,
            },
        ).scalar_one()
        upload_id = conn.execute(
            insert(Upload.__table__).returning(Upload.__table__.c.id),
            {
                "org_id": org_id,
                "filename": "big.csv",
                "content": sheet.encode(),
                "uploaded_by": user_id,
                "created_at": now,
            },
        ).scalar_one()
    return org_id, user_id, upload_id


def test_sigkill_mid_import_then_the_retry_creates_each_lead_once(worker_env):  # noqa: F811
    engine = make_engine(worker_env["DATABASE_URL"])
    redis = Redis.from_url(worker_env["REDIS_URL"])
    org_id, user_id, upload_id = seed_upload(engine)
    runner = RQJobRunner(redis)
    job_id = runner.enqueue(
        "workers.jobs.import_leads.run",
        upload_id,
        user_id,
        {"source": "转介绍"},
        org_id=org_id,
        user_id=user_id,
        queue="imports",
    )
    first = second = None
    try:
        first = start_worker(worker_env, "imports")
        wait_until(lambda: 0 < runner.fetch(job_id).progress < 1)
        kill(first)  # a batch or more into the import's one transaction
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).where(Lead.org_id == org_id)) == 0

        second = start_worker(worker_env, "imports")
        info = wait_until(lambda: (i := runner.fetch(job_id)).status == "finished" and i)
    finally:
        logs = [stop(worker) for worker in (first, second)]
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(job_id, connection=redis).delete()
        redis.close()

    assert f"requeued or failed jobs of dead workers: {job_id}" in logs[1]
    assert info.result["created"] == ROWS and info.result["duplicates"] == 0
    with engine.connect() as conn:
        leads = conn.scalar(select(func.count()).where(Lead.org_id == org_id))
        distinct = conn.scalar(
            select(func.count(Lead.phone_bidx.distinct())).where(Lead.org_id == org_id)
        )
    engine.dispose()
    assert leads == distinct == ROWS
