"""One periodic-job scheduler at a time (workers/cron.py): a second stands by until the lock in
Redis is free, and a holder whose lock was taken stops instead of enqueuing beside the new one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from redis.exceptions import LockNotOwnedError

from tests.services import REDIS_URL, redis_or_skip
from workers import cron

pytestmark = pytest.mark.integration


@pytest.fixture
def redis(monkeypatch):
    client = redis_or_skip()
    client.delete(cron.LOCK_NAME)
    monkeypatch.setattr(cron, "RENEW_SECONDS", 0.05)
    yield client
    client.delete(cron.LOCK_NAME)


def test_a_second_scheduler_stands_by_until_the_first_stops(redis):
    first_stop, second_stop = threading.Event(), threading.Event()
    first = cron.lead(redis, first_stop)
    running = threading.Thread(target=cron.run, args=(cron.build(redis, ()), first, first_stop))
    running.start()
    second: list = []
    standby = threading.Thread(target=lambda: second.append(cron.lead(redis, second_stop)))
    standby.start()
    time.sleep(0.3)
    assert second == []  # still waiting while the first holds the lock
    first_stop.set()
    running.join(5)
    standby.join(5)
    assert second and second[0] is not None
    assert redis.get(cron.LOCK_NAME) == second[0].local.token
    second[0].release()


def test_a_scheduler_whose_lock_was_taken_stops_enqueuing(redis):
    lock = cron.lead(redis, threading.Event())
    redis.set(cron.LOCK_NAME, "another scheduler's token")  # expired, then taken
    with pytest.raises(LockNotOwnedError):
        cron.run(cron.build(redis, ()), lock, threading.Event())
    assert redis.get(cron.LOCK_NAME) == b"another scheduler's token"


def test_sigterm_gives_the_lock_back_at_once(redis):
    env = {**os.environ, "REDIS_URL": REDIS_URL}
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.cron"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while redis.get(cron.LOCK_NAME) is None:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        _, log = process.communicate()
        for queue in {job.queue for job in cron.SCHEDULE}:  # what it enqueued at start
            redis.delete(f"rq:queue:{queue}")
    assert redis.get(cron.LOCK_NAME) is None, log
    assert "holding the scheduler lock" in log
