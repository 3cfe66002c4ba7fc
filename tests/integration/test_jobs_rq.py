"""Background jobs on RQ: enqueued through RQJobRunner, run by a real `python -m workers.worker`."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job

from crm.migrate import upgrade_to_head
from tests.rq_worker import ROOT, worker_environment
from tests.services import redis_or_skip
from workers.runner import JobInfo, RQJobRunner

pytestmark = pytest.mark.integration

JOBS = "tests.jobs_for_tests"


class Harness:
    """Enqueues test jobs, runs a burst worker over them, and removes every key it caused."""

    def __init__(self, redis: Redis, worker_env: dict[str, str]) -> None:
        self.redis = redis
        self.worker_env = worker_env
        # no back-off, so retries run within the same burst
        self.runner = RQJobRunner(redis, retry_intervals=(0, 0, 0))
        self.job_ids: list[str] = []
        self.keys: list[str] = []

    def enqueue(self, func: str, *args: str) -> str:
        job_id = self.runner.enqueue(f"{JOBS}.{func}", *args, org_id=7, user_id=11)
        self.job_ids.append(job_id)
        return job_id

    def key(self, name: str) -> str:
        key = f"loanline-test:{secrets.token_hex(4)}:{name}"
        self.keys.append(key)
        return key

    def start_worker(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.worker", "--burst", "default"],
            cwd=ROOT,
            env=self.worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run_worker(self) -> str:
        return finish(self.start_worker())

    def fetch(self, job_id: str) -> JobInfo:
        info = self.runner.fetch(job_id)
        assert info is not None
        return info

    def cleanup(self) -> None:
        for job_id in self.job_ids:
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(job_id, connection=self.redis).delete()
        if self.keys:
            self.redis.delete(*self.keys)


def finish(worker: subprocess.Popen[str]) -> str:
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    redis_or_skip()
    instance = tmp_path_factory.mktemp("worker")
    database_url = f"sqlite:///{instance / 'worker.db'}"
    upgrade_to_head(database_url)
    return worker_environment(database_url, instance)


@pytest.fixture
def jobs(worker_env: dict[str, str]) -> Iterator[Harness]:
    redis = Redis.from_url(worker_env["REDIS_URL"])
    harness = Harness(redis, worker_env)
    try:
        yield harness
    finally:
        harness.cleanup()
        redis.close()


def test_progress_shows_in_meta_while_running_and_the_result_when_finished(jobs):
    gate = jobs.key("gate")
    job_id = jobs.enqueue("counted_orgs_after_gate", gate)
    assert jobs.fetch(job_id).status == "queued"

    worker = jobs.start_worker()
    try:
        running = _wait_until(lambda: jobs.fetch(job_id), lambda info: info.progress == 0.5)
        assert running.status == "started"
        assert Job.fetch(job_id, connection=jobs.redis).meta["progress"] == 0.5
        jobs.redis.rpush(gate, "open")
    finally:
        finish(worker)

    assert jobs.fetch(job_id) == JobInfo(
        id=job_id,
        org_id=7,
        user_id=11,
        status="finished",
        progress=1.0,
        result={"orgs": 0},
        error=None,
    )


def test_a_refusal_fails_the_job_at_once_without_retries(jobs):
    runs = jobs.key("runs")
    job_id = jobs.enqueue("logged_refusal", runs)

    jobs.run_worker()

    assert jobs.redis.llen(runs) == 1
    info = jobs.fetch(job_id)
    assert info.status == "failed"
    assert info.error == {
        "code": "file_unreadable",
        "message": "the uploaded file is not a spreadsheet",
        "details": {},
    }


def test_an_unexpected_error_is_retried_and_the_job_then_finishes(jobs):
    runs = jobs.key("runs")
    job_id = jobs.enqueue("logged_fail_once", runs)

    jobs.run_worker()

    assert jobs.redis.llen(runs) == 2
    info = jobs.fetch(job_id)
    assert (info.status, info.result, info.error) == ("finished", {"runs": 2}, None)


def test_a_job_failing_on_every_retry_fails_without_internal_detail(jobs):
    runs = jobs.key("runs")
    job_id = jobs.enqueue("logged_failure", runs)

    jobs.run_worker()

    assert jobs.redis.llen(runs) == 4  # the first run and three retries
    info = jobs.fetch(job_id)
    assert info.status == "failed"
    assert info.error["code"] == "job_failed"
    assert "internal detail" not in str(info.error)


def test_unknown_job_ids_are_not_found(jobs):
    assert jobs.runner.fetch(secrets.token_hex(16)) is None
    assert jobs.runner.fetch("../etc") is None


def test_the_worker_refuses_to_start_without_redis(worker_env):
    env = {k: v for k, v in worker_env.items() if k != "REDIS_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "workers.worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "REDIS_URL is not set" in done.stderr


def _wait_until(read, done):
    deadline = time.monotonic() + 20
    while not done(value := read()):
        assert time.monotonic() < deadline, value
        time.sleep(0.05)
    return value
