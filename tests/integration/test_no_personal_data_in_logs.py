"""Personal data never reaches a log or a job record: a full day's work against a real server
and a real RQ worker (import a sheet, search by phone and by name, reveal, call, export, a
de-identified dataset), then the server's log, the worker's log and every job Redis holds are
scanned for the people's phones, ID numbers and names in every spelling a log could use."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from redis import Redis
from rq.job import Job

from tests.live_server import LiveServer, stop_server
from tests.private_services import server_and_worker
from tests.services import REDIS_URL, redis_or_skip

pytestmark = pytest.mark.integration

# a Redis database of this test's own (the job tests use 14, the clusters 12 and 13)
SCAN_REDIS = f"{REDIS_URL.rsplit('/', 1)[0]}/11"
PEOPLE = {
    "phones": ["13812345678", "13987654321", "13700001111"],
    "id_numbers": ["11010519491231002X", "44030419850607201X"],
    "names": ["欧阳娜娜", "司马相如", "诸葛孔明"],
}
# a broker's sheet: a good row, a row whose amount column holds an ID number by mistake, and a
# row with a typo in the phone
SHEET = (
    "姓名,手机号码,身份证号,贷款金额\n"
    "欧阳娜娜,138 1234 5678,11010519491231002X,30万\n"
    "司马相如,13987654321,,44030419850607201X\n"
    "诸葛孔明,137000O1111,,5万\n"
)


def spellings() -> set[str]:
    """Each value as a log could write it: plain, URL-encoded, JSON-escaped, +86, lower x."""
    found = set()
    for phone in PEOPLE["phones"]:
        found |= {phone, f"+86{phone}", f"%2B86{phone}", f"{phone[:3]} {phone[3:7]} {phone[7:]}"}
    for number in PEOPLE["id_numbers"]:
        found |= {number, number.lower()}
    for name in PEOPLE["names"]:
        found |= {name, quote(name), json.dumps(name)[1:-1]}
    return found


@pytest.fixture
def stack(tmp_path) -> Iterator[tuple[LiveServer, subprocess.Popen, Redis]]:
    redis_or_skip()
    redis = Redis.from_url(SCAN_REDIS)
    redis.flushdb()
    try:
        with server_and_worker(
            tmp_path,
            ["imports", "privacy", "scoring", "default"],
            REDIS_URL=SCAN_REDIS,
            SIM_TIME_SCALE="0.01",
            SOCKETIO_CHANNEL="log-scan",
        ) as (server, worker):
            yield server, worker, redis
    finally:
        redis.flushdb()
        redis.close()


def finished(server: LiveServer, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while (job := server.api("manager", "GET", f"/jobs/{job_id}").json())["status"] in (
        "queued",
        "started",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["status"] == "finished", job
    return job


def a_day_of_work(server: LiveServer) -> None:
    imported = server.api(
        "manager",
        "POST",
        "/leads/import",
        files={"file": ("客户名单.csv", SHEET.encode())},
        data={"source": "转介绍"},
    )
    assert imported.status_code == 202, imported.text
    result = finished(server, imported.json()["job_id"])["result"]
    assert (result["created"], len(result["invalid"])) == (1, 2), result
    # the list is searched by full phone and by name, through the API and the page's URL
    [lead] = server.api("manager", "GET", "/leads", params={"q": "13812345678"}).json()["items"]
    assert server.api("manager", "GET", "/leads", params={"q": "欧阳娜娜"}).json()["total"] == 1
    spaced = server.api("manager", "GET", "/leads", params={"q": "+86 138 1234 5678"})
    assert spaced.json()["total"] == 1
    revealed = server.api(
        "manager",
        "POST",
        f"/leads/{lead['id']}/reveal",
        json={"fields": ["phone", "id_number", "name"], "purpose": "客户来电核对身份"},
    )
    assert revealed.json()["name"] == "欧阳娜娜"
    _call(server, lead["id"])
    exported = server.api(
        "admin", "GET", "/leads/export", params={"q": "欧阳娜娜", "purpose": "报送资金方复核"}
    )
    assert "13812345678" in exported.text  # the file has it; no log may
    dataset = server.api("manager", "POST", "/exports/deidentified", json={})
    finished(server, dataset.json()["job_id"])


def _call(server: LiveServer, lead_id: int) -> None:
    assert server.api("manager", "POST", "/caller-ids", json={"number": "01066660001"}).ok
    assert server.api("manager", "POST", "/leads/assign", json={
        "lead_ids": [lead_id], "to_user_id": _user_id(server, "agent_bj1")
    }).ok  # fmt: skip
    console = server.console("agent_bj1")
    try:
        call_id = console.call("dial", {"lead_id": lead_id})["call_id"]
        console.call("hangup", {"call_id": call_id})
        console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended")
        outcome = {"call_id": call_id, "disposition": "callback", "note": "约明天下午回电"}
        assert console.call("disposition", outcome)["ok"]
    finally:
        console.close()


def _user_id(server: LiveServer, username: str) -> int:
    users = server.api("manager", "GET", "/users", params={"per_page": 200}).json()["items"]
    return next(u["id"] for u in users if u["username"] == username)


def job_records(redis: Redis) -> str:
    """Every job Redis holds as RQ reads it back (its call, description, meta, result and
    error; RQ stores them pickled and compressed), and every other key's raw content."""
    parts = []
    for key in map(bytes.decode, redis.scan_iter()):
        if key.startswith("rq:job:") and key.count(":") == 2:
            job = Job.fetch(key.removeprefix("rq:job:"), connection=redis)
            parts.append(repr((job.args, job.kwargs, job.description, job.meta)))
            result = job.latest_result()
            parts.append(repr(result and (result.return_value, result.exc_string)))
        elif key.startswith("rq:results:"):
            continue  # each job's results, read through the job above
        else:
            parts.append(repr(_raw(redis, key)))
    return "\n".join(parts)


def _raw(redis: Redis, key: str):
    kind = redis.type(key).decode()
    read = {
        "string": redis.get,
        "hash": redis.hgetall,
        "list": lambda k: redis.lrange(k, 0, -1),
        "set": redis.smembers,
        "zset": lambda k: redis.zrange(k, 0, -1),
        "stream": redis.xrange,
    }
    return read[kind](key)


def test_a_day_of_work_leaves_no_personal_data_in_logs_or_job_records(stack):
    server, worker, redis = stack
    a_day_of_work(server)
    worker.terminate()
    worker_log, _ = worker.communicate(timeout=30)
    stop_server(server)
    where = {
        "server log": server.log(),
        "worker log": worker_log,
        "job records": job_records(redis),
    }
    assert "GET /api/v1/leads?q=" in where["server log"]  # the searches were logged, redacted
    leaks = {name: sorted(s for s in spellings() if s in text) for name, text in where.items()}
    assert leaks == {name: [] for name in where}
