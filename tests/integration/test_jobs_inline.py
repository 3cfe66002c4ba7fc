"""Background jobs in embedded mode: run on the in-process pool, status through the jobs API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from crm.extensions import runtime
from tests import jobs_for_tests
from workers import progress
from workers.runner import InlineJobRunner, JobInfo

JOBS = "tests.jobs_for_tests"


def _poll(read: Callable[[], dict | JobInfo | None], done: Callable[..., bool]):
    deadline = time.monotonic() + 10
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, value
        time.sleep(0.02)


def _job_status(client, headers, job_id: str, done: Callable[[dict], bool]) -> dict:
    return _poll(lambda: client.get(f"/api/v1/jobs/{job_id}", headers=headers).json, done)


@pytest.fixture
def agent(make, auth, monkeypatch):
    # the suite runs jobs synchronously (tests/conftest.py); these tests need the real pool
    monkeypatch.setattr(runtime, "jobs", InlineJobRunner())
    user = make.user("agent")
    return user, auth.headers_for(user.username)


def test_progress_and_result_are_visible_to_the_org_that_started_the_job(client, agent):
    user, headers = agent
    token = secrets.token_hex(4)
    job_id = runtime.jobs.enqueue(
        f"{JOBS}.halfway_then_wait", token, org_id=user.org_id, user_id=user.id
    )

    running = _job_status(client, headers, job_id, lambda body: body["progress"] == 0.5)
    assert running["status"] == "started"
    jobs_for_tests.release(token)
    done = _job_status(client, headers, job_id, lambda body: body["status"] == "finished")

    assert done == {
        "id": job_id,
        "status": "finished",
        "progress": 1.0,
        "result": {"token": token},
        "error": None,
    }


def test_a_user_of_another_org_gets_404_for_the_job(client, agent, auth):
    user, _ = agent
    job_id = runtime.jobs.enqueue(f"{JOBS}.refuse", "x", org_id=user.org_id, user_id=user.id)
    outsider = auth.login("partner_agent")

    response = client.get(f"/api/v1/jobs/{job_id}", headers=outsider)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_an_hq_manager_sees_jobs_of_every_org(client, make, auth):
    partner_user = make.user("partner_agent")
    job_id = runtime.jobs.enqueue(f"{JOBS}.refuse", "x", org_id=partner_user.org_id, user_id=None)

    response = client.get(f"/api/v1/jobs/{job_id}", headers=auth.login("manager"))

    assert response.status_code == 200
    assert response.json["id"] == job_id


def test_a_refused_job_fails_at_once_with_its_error_code(client, agent):
    user, headers = agent
    job_id = runtime.jobs.enqueue(
        f"{JOBS}.refuse", "file_unreadable", org_id=user.org_id, user_id=user.id
    )

    body = _job_status(client, headers, job_id, lambda body: body["status"] == "failed")

    assert body["error"] == {
        "code": "file_unreadable",
        "message": "the uploaded file is not a spreadsheet",
        "details": {"row": 3},
    }
    assert body["result"] is None


def test_an_unknown_job_id_answers_404(client, agent):
    _, headers = agent
    for job_id in ("0" * 32, "not-a-job-id"):
        response = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"


def test_an_unexpected_error_is_retried_and_the_job_then_finishes():
    runner = InlineJobRunner(retry_intervals=(0,))
    job_id = runner.enqueue(f"{JOBS}.fail_once", secrets.token_hex(4), org_id=1, user_id=None)

    info = _poll(lambda: runner.fetch(job_id), lambda info: info.status == "finished")

    assert info.result == {"attempts": 2}
    assert info.error is None


def test_a_job_failing_after_its_retries_shows_no_internal_detail():
    runner = InlineJobRunner(retry_intervals=(0, 0))
    job_id = runner.enqueue(f"{JOBS}.always_fail", org_id=1, user_id=None)

    info = _poll(lambda: runner.fetch(job_id), lambda info: info.status == "failed")

    assert info.error["code"] == "job_failed"
    assert "internal detail" not in str(info.error)


def test_an_unknown_queue_is_refused_at_enqueue():
    with pytest.raises(ValueError, match="unknown queue"):
        InlineJobRunner().enqueue(f"{JOBS}.refuse", "x", org_id=1, user_id=None, queue="typo")


def test_progress_is_clamped_and_throttled_except_for_completion(monkeypatch):
    clock = iter([100.0, 100.1, 100.2, 100.7, 100.8])
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    written: list[float] = []

    with progress.reporting_to(written.append):
        for fraction in (-0.5, 0.2, 1.5, 0.6, 0.7):
            progress.report(fraction)

    # 0.2 comes 0.1 s after the first write; 1.0 always goes through; 0.7 is 0.1 s after 0.6
    assert written == [0.0, 1.0, 0.6]
