"""Redis restarted under a running server and worker: a job queued before the restart runs after
it, new jobs run on the same worker process, live pushes through the Socket.IO message queue
reach consoles again, and a console that reconnects gets its state back (resume).

Redis is the test's own (tests/private_services.py), append-only as production runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from flask_socketio import SocketIO

from tests.live_server import LiveServer
from tests.private_services import PrivateRedis, private_redis, server_and_worker

pytestmark = pytest.mark.integration

CHANNEL = "fault-redis"


@pytest.fixture
def stack(tmp_path) -> Iterator[tuple[LiveServer, subprocess.Popen, PrivateRedis]]:
    with (
        private_redis() as redis,
        server_and_worker(tmp_path, ["imports"], REDIS_URL=redis.url, SOCKETIO_CHANNEL=CHANNEL) as (
            server,
            worker,
        ),
    ):
        yield server, worker, redis


def start_import(server: LiveServer, phone: str) -> str:
    sheet = f"姓名,手机号码\n测试,{phone}\n".encode()
    response = server.api(
        "manager", "POST", "/leads/import", files={"file": ("s.csv", sheet)}, data={"source": "x"}
    )
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def wait_finished(server: LiveServer, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = server.api("manager", "GET", f"/jobs/{job_id}")
        if response.status_code == 200 and response.json()["status"] in ("finished", "failed"):
            return response.json()
        assert time.monotonic() < deadline, response.text
        time.sleep(0.2)


def test_after_a_redis_restart_jobs_resume_and_consoles_resynchronise(stack):
    server, worker, redis = stack
    assert wait_finished(server, start_import(server, "13911110001"))["result"]["created"] == 1
    console = server.console("agent_bj1")
    assert console.call("agent_state", {"state": "available"}) == {"ok": True}

    os.kill(worker.pid, signal.SIGSTOP)  # busy elsewhere: the next job waits in the queue
    queued = start_import(server, "13911110002")
    redis.restart()
    os.kill(worker.pid, signal.SIGCONT)

    # the job queued before the restart, then a new one, on the same worker process
    assert wait_finished(server, queued)["result"]["created"] == 1
    assert wait_finished(server, start_import(server, "13911110003"))["result"]["created"] == 1
    assert worker.poll() is None

    # pushes from other processes reach the console again once the server has resubscribed
    agent_id = server.api("agent_bj1", "GET", "/me").json()["id"]
    emitter = SocketIO(message_queue=redis.url, channel=CHANNEL)
    deadline = time.monotonic() + 30
    while not any(name == "notice" for name, _ in console.events):
        assert time.monotonic() < deadline, "no push reached the console after the restart"
        emitter.emit("notice", {"code": "t", "message": "x"}, to=f"user:{agent_id}",
                     namespace="/dialer")  # fmt: skip
        time.sleep(0.5)

    # a console that reconnects (a reload) gets where the agent stands
    console.close()
    again = server.console("agent_bj1")
    try:
        resumed = again.call("resume", {})
    finally:
        again.close()
    assert resumed["ok"] and resumed["agent_state"] == "available", resumed
