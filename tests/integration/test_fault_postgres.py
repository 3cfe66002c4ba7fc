"""PostgreSQL restarted under load: agents claim leads (HTTP) and dial, hang up and record
outcomes (Socket.IO) against a real server while the database restarts. Each request either
succeeds or fails cleanly (a 503 in the error shape, an ack with a code: never a 500, never a
missing ack), nothing is half-written, and the server works again without being restarted.

The cluster is the test's own (tests/private_services.py), so the restart disturbs nobody."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from crm.compliance.crypto import PiiKeyring
from tests.integration.test_dialer_api import sql
from tests.live_server import (
    Console,
    LiveServer,
    add_agents,
    prepare_database,
    start_server,
    stop_server,
)
from tests.private_services import (
    PrivatePostgres,
    own_databases_only,
    private_postgresql,
    wait_for_database,
)

pytestmark = [pytest.mark.integration, own_databases_only]

CLAIMERS = ("agent_bj1", "agent_bj2")  # demo agents, claiming from the public pool
CALLERS = ("fault_caller1", "fault_caller2")  # each dialling leads of their own
BURST_SECONDS = 4.0
OUTAGE_SECONDS = 1.0
# what a console may be told while the database is away, besides ok
CLEAN_REFUSALS = {"database_unavailable"}


@dataclass
class Outcomes:
    http: list[tuple[str, int, dict]] = field(default_factory=list)
    acks: list[tuple[str, object]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_http(self, who: str, response) -> None:
        with self.lock:
            self.http.append((who, response.status_code, response.json()))

    def add_ack(self, event: str, ack: object) -> None:
        with self.lock:
            self.acks.append((event, ack))


@pytest.fixture
def stack(tmp_path) -> Iterator[tuple[LiveServer, PrivatePostgres]]:
    with private_postgresql() as cluster:
        pii_keys = PiiKeyring.generate_json()
        prepare_database(cluster.url, pii_keys)
        add_agents(cluster.url, pii_keys, list(CALLERS), leads_each=30)
        env = {"PII_KEYS": pii_keys, "SIM_TIME_SCALE": "0.01", "SIM_ANSWER_RATE": "0"}
        live = start_server(env, cluster.url, tmp_path)
        try:
            number = {"number": "01066660001", "daily_cap": 2000}
            assert live.api("manager", "POST", "/caller-ids", json=number).status_code == 201
            yield live, cluster
        finally:
            stop_server(live)


def claim_loop(server: LiveServer, username: str, until: float, outcomes: Outcomes) -> None:
    while time.monotonic() < until:
        outcomes.add_http(username, server.api(username, "POST", "/leads/claim-next", json={}))


def call_loop(server: LiveServer, username: str, until: float, outcomes: Outcomes) -> None:
    console = server.console(username)
    try:
        for lead_id in _own_leads(server, username):
            if time.monotonic() > until:
                break
            one_call(console, lead_id, outcomes)
    finally:
        console.close()


def one_call(console: Console, lead_id: int, outcomes: Outcomes) -> bool:
    """Dial, hang up, record the outcome; every ack is kept. True when all three went through."""
    dialed = _ack(console, outcomes, "dial", {"lead_id": lead_id})
    if not dialed.get("ok"):
        return False
    call_id = dialed["call_id"]
    _ack(console, outcomes, "hangup", {"call_id": call_id})
    ended = lambda d: d["call_id"] == call_id and d["state"] == "ended"  # noqa: E731
    console.wait_for("call_state", ended, timeout=15)
    outcome = {"call_id": call_id, "disposition": "no_answer"}
    return bool(_ack(console, outcomes, "disposition", outcome).get("ok"))


def _ack(console: Console, outcomes: Outcomes, event: str, data: dict) -> dict:
    try:
        ack = console.call(event, data, timeout=15)
    except Exception as exc:  # no ack at all: the server dropped the event
        ack = {"no_ack": repr(exc)}
    outcomes.add_ack(event, ack)
    return ack


def _own_leads(server: LiveServer, username: str) -> list[int]:
    page = server.api(username, "GET", "/leads", params={"pool": "mine", "per_page": 200})
    return [lead["id"] for lead in page.json()["items"]]


def test_a_database_restart_under_load_fails_cleanly_and_loses_nothing(stack):
    server, cluster = stack
    outcomes = Outcomes()
    [(started,)] = sql(server, "SELECT now()")
    until = time.monotonic() + BURST_SECONDS
    threads = [
        *(threading.Thread(target=claim_loop, args=(server, u, until, outcomes)) for u in CLAIMERS),
        *(threading.Thread(target=call_loop, args=(server, u, until, outcomes)) for u in CALLERS),
    ]
    for thread in threads:
        thread.start()
    time.sleep(BURST_SECONDS / 4)
    cluster.stop()  # a second away, so requests and call events meet the outage
    time.sleep(OUTAGE_SECONDS)
    cluster.start()
    for thread in threads:
        thread.join(timeout=120)
    wait_for_database(server.database_url)

    statuses = {status for _who, status, _body in outcomes.http}
    assert statuses <= {200, 404, 422, 503}, outcomes.http
    for _who, status, body in outcomes.http:
        if status >= 400:
            assert set(body) == {"error"} and body["error"]["code"], body
    assert {200, 503} <= statuses, "the burst did not straddle the restart"
    for event, ack in outcomes.acks:
        assert "ok" in ack, (event, ack)  # an answer, not silence
        assert ack["ok"] or ack["code"] in CLEAN_REFUSALS, (event, ack)

    # the same server process works again (an agent who did not claim today: the others may
    # have reached their daily cap in the burst)
    assert server.api("sz_agent1", "POST", "/leads/claim-next", json={}).status_code == 200
    console = server.console(CALLERS[0])
    try:
        spare = _own_leads(server, CALLERS[0])[-1]
        assert one_call(console, spare, Outcomes())
    finally:
        console.close()

    # nothing half-written: every claim has its timeline event, every outcome its follow-up,
    # and no call is left open
    [(owned_without_event,)] = sql(
        server,
        "SELECT count(*) FROM leads l JOIN users u ON u.id = l.owner_id "
        f"WHERE u.username IN {CLAIMERS} AND l.claimed_at >= :started AND NOT EXISTS "
        "(SELECT 1 FROM lead_events e "
        " WHERE e.lead_id = l.id AND e.kind = 'claimed' AND e.actor_id = l.owner_id)",
        started=started,
    )
    assert owned_without_event == 0
    [(outcomes_recorded, followups)] = sql(
        server,
        "SELECT (SELECT count(*) FROM calls c JOIN users u ON u.id = c.agent_id "
        f"        WHERE u.username IN {CALLERS} AND c.disposition IS NOT NULL), "
        "       (SELECT count(*) FROM followups f JOIN users u ON u.id = f.user_id "
        f"        WHERE u.username IN {CALLERS} AND f.channel = 'call')",
    )
    assert outcomes_recorded == followups > 0
    assert sql(server, "SELECT id, state FROM calls WHERE state <> 'ended'") == []
