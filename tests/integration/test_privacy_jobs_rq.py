"""The privacy and scheduled jobs on a real `python -m workers.worker` process and real Redis: the
de-identified export, retention and follow-up reminders pushed through the Socket.IO queue."""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import subprocess
import sys
import time
from datetime import timedelta
from uuid import uuid4

import pytest
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.exports.models import DatasetExport
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead
from crm.orgs.models import Org, User
from crm.orgs.schemas import OrgSettings
from tests.integration.test_jobs_rq import ROOT, worker_env  # noqa: F401 - a fixture
from workers.runner import JobInfo, RQJobRunner

pytestmark = pytest.mark.integration

PHONES = [f"1390000{n:04d}" for n in range(1, 13)]


class WorkerWorld:
    """The worker's own database and Redis, filled and read directly by the test."""

    def __init__(self, env: dict[str, str]) -> None:
        # a Socket.IO channel of its own: no other server's events, and none of ours reach them
        self.env = {**env, "SOCKETIO_CHANNEL": f"loanline-test-{uuid4().hex[:8]}"}
        self.engine = create_engine(env["DATABASE_URL"])
        self.vault = PiiVault(PiiCipher(PiiKeyring.from_json(env["PII_KEYS"])))
        self.redis = Redis.from_url(env["REDIS_URL"])
        self.runner = RQJobRunner(self.redis, retry_intervals=(0, 0, 0))
        self.job_ids: list[str] = []

    def org_with_manager(self, **settings) -> tuple[int, int]:
        with Session(self.engine) as session, session.begin():
            org = Org(name=f"org-{uuid4().hex[:8]}", kind="hq", cities=["北京"])
            org.settings = OrgSettings(**settings).model_dump()
            session.add(org)
            session.flush()
            user = User(
                org_id=org.id,
                username=f"m{uuid4().hex[:8]}",
                display_name="经理",
                role="manager",
                password_hash="x",
            )
            session.add(user)
            session.flush()
            return org.id, user.id

    def add_leads(self, org_id: int, phones: list[str], **columns) -> list[int]:
        now = utcnow()
        rows = []
        for phone in phones:
            draft = LeadDraft(phone=phone, source="抖音", name="欧阳锋", city="北京")
            rows.append({**lead_columns(self.vault, draft, org_id, None, now), **columns})
        with Session(self.engine) as session, session.begin():
            return list(session.scalars(insert(Lead).returning(Lead.id), rows))

    def enqueue(self, func: str, *args, org_id: int, queue: str, job_id: str | None = None):
        job_id = self.runner.enqueue(
            func, *args, org_id=org_id, user_id=None, queue=queue, job_id=job_id
        )
        self.job_ids.append(job_id)
        return job_id

    def run_worker(self, *queues: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "workers.worker", "--burst", *queues],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def fetch(self, job_id: str) -> JobInfo:
        info = self.runner.fetch(job_id)
        assert info is not None
        return info

    def close(self) -> None:
        for job_id in self.job_ids:
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(job_id, connection=self.redis).delete()
        self.redis.close()
        self.engine.dispose()


@pytest.fixture
def world(worker_env) -> WorkerWorld:  # noqa: F811 - the imported fixture
    built = WorkerWorld(worker_env)
    try:
        yield built
    finally:
        built.close()


def test_a_worker_writes_the_de_identified_export_with_its_report(world):
    org_id, manager_id = world.org_with_manager()
    world.add_leads(org_id, PHONES)
    job_id = uuid4().hex
    with Session(world.engine) as session, session.begin():
        export = DatasetExport(org_id=org_id, job_id=job_id, requested_by=manager_id, filters={})
        session.add(export)
        session.flush()
        export_id = export.id
    world.enqueue(
        "workers.jobs.deidentified_export.run",
        export_id,
        manager_id,
        org_id=org_id,
        queue="privacy",
        job_id=job_id,
    )

    world.run_worker("privacy")

    info = world.fetch(job_id)
    assert (info.status, info.progress, info.result["rows"]) == ("finished", 1.0, len(PHONES))
    assert info.result["smallest_group"] == len(PHONES)  # all alike: one group
    with Session(world.engine) as session:
        content = session.scalar(select(DatasetExport.content).where(DatasetExport.id == export_id))
    text = gzip.decompress(content).decode()
    assert len(text.splitlines()) == 1 + len(PHONES)
    assert "欧阳" not in text and re.findall(r"\d{5,}", text) == []


def test_a_worker_runs_retention_on_expired_leads_only(world):
    org_id, _ = world.org_with_manager(retention_days=30)
    long_ago = utcnow() - timedelta(days=31)
    expired = world.add_leads(org_id, ["13700000001"], created_at=long_ago)
    recent = world.add_leads(org_id, ["13700000002"])
    job_id = world.enqueue("workers.jobs.retention.run", org_id=org_id, queue="privacy")

    world.run_worker("privacy")

    assert world.fetch(job_id).result == {
        "deidentified": 1,
        "reminders_pruned": 0,
        "uploads_purged": 0,
        "orphan_files_removed": 0,
        "abandoned_files_removed": 0,
    }
    with Session(world.engine) as session:
        rows = session.execute(select(Lead.id, Lead.name_enc).where(Lead.org_id == org_id))
        names = dict(rows.all())
    assert names[expired[0]] is None
    assert names[recent[0]] is not None


def test_a_worker_pushes_follow_up_reminders_through_the_socketio_queue(world):
    org_id, agent_id = world.org_with_manager()
    lead_ids = world.add_leads(
        org_id,
        ["13600000001"],
        owner_id=agent_id,
        next_followup_at=utcnow() + timedelta(minutes=5),
    )
    listener = world.redis.pubsub()
    listener.subscribe(world.env["SOCKETIO_CHANNEL"])
    job_id = world.enqueue(
        "workers.jobs.followup_reminders.run", org_id=org_id, queue="notifications"
    )

    world.run_worker("notifications")

    assert world.fetch(job_id).status == "finished"
    notices = _messages(listener, lambda m: m.get("event") == "notice")
    # the queue carries the event's arguments as a list: here the one notice payload
    ours = [m for m in notices if m["data"][0]["lead_ids"] == lead_ids]
    assert [(m["room"], m["namespace"], m["data"][0]["code"]) for m in ours] == [
        (f"user:{agent_id}", "/dialer", "followup_due")
    ]
    listener.close()


def _messages(listener, wanted) -> list[dict]:
    found, deadline = [], time.monotonic() + 5
    while time.monotonic() < deadline:
        message = listener.get_message(timeout=0.2)
        if message is None:
            if found:
                return found
            continue
        if message["type"] == "message":
            payload = json.loads(message["data"])
            if wanted(payload):
                found.append(payload)
    return found
