"""The reference deployment, run: nginx (deploy/nginx/loanline.conf) in front of two web processes
and a job worker started as the systemd units start them, on PostgreSQL and Redis. An event a
worker emits reaches a console on either process, whichever transport it came through; a
process told to stop ends its calls with a reason and its console carries on through the other."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator

import pytest
import requests
from redis import Redis

from crm.demo import DEMO_PASSWORD
from tests.live_server import Console, prepare_database, seed_where_calls_ring, stop_server
from tests.services import PG_URL, missing, pg_schema, redis_or_skip
from tests.topology import Topology, nginx_binary, running, verify_units
from workers.runner import RQJobRunner

pytestmark = pytest.mark.integration
REDIS_URL = "redis://127.0.0.1:6379/12"
TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    # python-socketio's default, and a browser's: long-polling first, then the upgrade
    "polling then websocket": ["polling", "websocket"],
}


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if nginx_binary() is None:
        missing("nginx", FileNotFoundError("no nginx binary (apt-get install nginx)"))
    redis_or_skip(REDIS_URL)
    from crm.compliance.crypto import PiiKeyring

    folder = tmp_path_factory.mktemp("nginx-cluster")
    pii_keys = PiiKeyring.generate_json()
    env = {
        "PII_KEYS": pii_keys,
        "REDIS_URL": REDIS_URL,
        "SOCKETIO_CHANNEL": f"nginx-test-{uuid.uuid4().hex[:8]}",
        # nobody answers: a call rings for 30 s, so it is still ringing when its process stops
        "SIM_ANSWER_RATE": "0.0",
        "SIM_SEED": str(seed_where_calls_ring(5)),
    }
    with pg_schema(PG_URL) as url:
        prepare_database(url, pii_keys)
        with running(folder, url, env) as live:
            yield live


def login(base: str, username: str) -> tuple[str, dict]:
    response = requests.post(
        f"{base}/api/v1/auth/login",
        json={"username": username, "password": DEMO_PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["access_token"], body["user"]


def consoles_on(topology: Topology) -> list[int]:
    """Each web process's connected consoles, from its own /metrics."""
    counts = []
    for web in topology.webs:
        text = requests.get(f"{web.base}/metrics", timeout=5).text
        [count] = re.findall(r"^loanline_consoles_connected (\S+)$", text, re.MULTILINE)
        counts.append(int(float(count)))
    return counts


def test_the_systemd_units_pass_systemd_analyze(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    done = verify_units(tmp_path / "units")
    assert done.returncode == 0 and not done.stderr, done.stderr


def test_an_event_from_a_worker_reaches_consoles_on_both_processes_over_each_transport(
    topology,
):
    token, user = login(topology.nginx, "agent_bj1")
    held: dict[tuple[str, int], Console] = {}
    before = consoles_on(topology)
    for name, transports in TRANSPORTS.items():
        for attempt in range(16):
            # the default client sends no cookie of its own: nginx's route cookie keeps it on
            # one process; the others pick their process with the cookie
            route = {} if len(transports) > 1 else {"loanline_route": f"{name}{attempt}"}
            console = Console(topology.nginx, token, transports=transports, cookies=route)
            after = consoles_on(topology)
            [process] = [n for n, (a, b) in enumerate(zip(before, after, strict=True)) if b > a]
            before = after
            held.setdefault((name, process), console)
            if all((name, n) in held for n in range(len(topology.webs))):
                break
    assert len(held) == len(TRANSPORTS) * len(topology.webs), sorted(held)
    marker = uuid.uuid4().hex
    RQJobRunner(Redis.from_url(REDIS_URL)).enqueue(
        "workers.jobs.console_push.push",
        "notice",
        {"code": "test", "message": marker},
        f"user:{user['id']}",
        "/dialer",
        org_id=user["org_id"],
        user_id=None,
    )
    for (name, process), console in held.items():
        notice = console.wait_for("notice", lambda d: d["message"] == marker, timeout=20)
        assert notice["code"] == "test", (name, process)
        assert console.sio.transport() == TRANSPORTS[name][-1], (name, process)


def test_nginx_sets_the_route_cookie_and_keeps_probes_and_metrics_inside(topology):
    response = requests.get(f"{topology.nginx}/healthz", timeout=5)
    assert response.json()["status"] == "ok"
    assert "loanline_route=" in response.headers["Set-Cookie"]
    again = requests.get(f"{topology.nginx}/healthz", cookies={"loanline_route": "x"}, timeout=5)
    assert "Set-Cookie" not in again.headers
    for probe in ("/metrics", "/livez", "/readyz"):
        assert requests.get(f"{topology.nginx}{probe}", timeout=5).status_code == 403
    # each process on its own port: Redis's queue figures beside its own
    metrics = requests.get(f"{topology.webs[1].base}/metrics", timeout=5).text
    for state in ("queued", "started", "scheduled", "failed"):
        assert f'loanline_queue_jobs{{queue="imports",state="{state}"}}' in metrics


def test_a_stopping_process_ends_its_calls_with_a_reason_and_its_consoles_move_on(topology):
    """Last in the module: it stops the first web process."""
    token, _ = login(topology.nginx, "agent_bj2")
    headers = {"Authorization": f"Bearer {token}"}
    claimed = requests.post(
        f"{topology.nginx}/api/v1/leads/claim-next", json={}, headers=headers, timeout=10
    )
    assert claimed.status_code == 200, claimed.text
    added = topology.webs[0].api("manager", "POST", "/caller-ids", json={"number": "01066660001"})
    assert added.status_code == 201, added.text
    stopping = topology.webs[0]
    console = Console(stopping.base, token)  # straight to the process that will stop
    dialed = console.call("dial", {"lead_id": claimed.json()["id"]})
    assert dialed["ok"], dialed
    call_id = dialed["call_id"]
    console.wait_for("call_state", lambda d: d["call_id"] == call_id and d["state"] == "ringing")
    assert requests.get(f"{stopping.base}/readyz", timeout=5).status_code == 200

    stop_server(stopping)

    ended = console.wait_for(
        "call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended"
    )
    assert ended["end_reason"] == "server_shutdown"
    assert stopping.process.returncode == 0, stopping.log()[-3000:]
    # the other process answers for the whole deployment now, and knows how the call ended
    calls = requests.get(
        f"{topology.nginx}/api/v1/calls",
        params={"lead_id": claimed.json()["id"]},
        headers=headers,
        timeout=10,
    ).json()["items"]
    assert [(c["id"], c["end_reason"]) for c in calls] == [(call_id, "server_shutdown")]
    console.close()
