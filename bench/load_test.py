"""The reference deployment under load: simulated agents work the console protocol through nginx.

Starts the topology of docs/deploy.md on this machine (tests/topology.py: `--webs` gunicorn web
processes as the systemd unit starts them, nginx with deploy/nginx/loanline.conf in front, two
RQ workers, PostgreSQL, Redis) and drives `--agents` agents through it for `--duration` seconds.
Each agent is a python-socketio console (WebSocket, through nginx, kept on its process by the
route cookie) plus HTTP calls through nginx, and works like a telesales agent:

    claim-next (HTTP) → dial (socket) → hang up once answered, or the carrier ends it →
    disposition (socket; a callback books the next follow-up) → follow-up note (HTTP, WeChat)

with a pause of `--pace` seconds on average between leads. The simulated carrier runs 100×
faster than life (`SIM_TIME_SCALE=0.01`). Reported: throughput, p50/p99/max per action, errors
(any refusal, non-2xx or timeout), double claims (a lead given to two agents: the claim
answers, and the claim events in the database) and lost calls (acknowledged dials that never
ended at the console, or are still open in the database 30 s after the run).

    .venv/bin/python -m bench.load_test --webs 1
    .venv/bin/python -m bench.load_test --webs 2
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests
import socketio
from sqlalchemy import create_engine, insert, select, text

from bench import common
from bench.dialer_consoles import (
    CALLER_IDS,
    HQ,
    connect_console,
    latency_row,
    run_clients,
    server_cpu_seconds,
    with_children,
)
from crm.auth.tokens import issue_access_token
from tests.live_server import SECRET_KEY, add_agents, prepare_database, set_org_settings
from tests.topology import running

ACTIONS = ("claim-next", "dial", "hangup", "disposition", "follow-up")
APPLICATION = "bench_load_test"
TIMEOUT = 30


def main() -> None:
    args = _parse_args()
    from crm.compliance.crypto import PiiKeyring

    pii_keys = PiiKeyring.generate_json()
    folder = common.scratch_path("servers")
    usernames = [f"agent{n:03d}" for n in range(args.agents)]
    with common.scratch_database("postgresql") as scratch:
        # every connection of the run is named, so the server's other clients can be told apart
        url = f"{scratch}&application_name={APPLICATION}"
        started = time.perf_counter()
        prepare_database(url, pii_keys)
        add_agents(url, pii_keys, usernames)
        _public_leads(url, pii_keys, args.leads)
        set_org_settings(
            url,
            HQ,
            max_calls_per_lead_per_day=50,
            daily_claim_cap=10_000,
            max_private_leads=100_000,
            daily_open_cap=100_000,
        )
        env = {
            "PII_KEYS": pii_keys,
            "REDIS_URL": args.redis_url,
            "SOCKETIO_CHANNEL": f"bench-load-{time.time_ns()}",
            "SIM_TIME_SCALE": "0.01",
            "SIM_ANSWER_RATE": "0.6",
        }
        with running(folder, url, env, webs=args.webs, workers=2) as topology:
            for n in range(CALLER_IDS):
                body = {"number": f"0109100{n:04d}", "daily_cap": 2000}
                added = topology.webs[0].api("manager", "POST", "/caller-ids", json=body)
                assert added.status_code == 201, added.text
            print(f"set up in {time.perf_counter() - started:.0f} s; {common.machine_note()}")
            agents = _tokens(url, usernames)
            pids = [pid for web in topology.webs for pid in with_children(web.process.pid)]
            cpu = server_cpu_seconds(pids), common.postgresql_cpu_seconds(url)
            samples = run_clients(_client_process, topology.nginx, agents, args, "agents")
            cpu = server_cpu_seconds(pids) - cpu[0], common.postgresql_cpu_seconds(url) - cpu[1]
            others = common.other_clients(url, APPLICATION)
            database = _database_checks(url, samples)
    _report(samples, database, args, Cpu(*cpu, others))


def _public_leads(url: str, pii_keys: str, count: int) -> None:
    """`count` unowned HQ leads with random mobiles and scores: the pool claim-next draws on."""
    from crm.compliance.crypto import PiiCipher, PiiKeyring
    from crm.compliance.pii import PiiVault
    from crm.leads.intake import LeadDraft, lead_columns
    from crm.leads.models import Lead
    from crm.orgs.models import Org

    vault = PiiVault(PiiCipher(PiiKeyring.from_json(pii_keys)))
    rng, now = random.Random(7), datetime.now(UTC)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            org_id = conn.scalar(select(Org.id).where(Org.name == HQ))
            rows = []
            for phone in rng.sample(range(10**8), count):
                draft = LeadDraft(phone=f"137{phone:08d}", source="bench", amount_wanted=Decimal(1))
                row = lead_columns(vault, draft, org_id, None, now)
                rows.append(row | {"score": rng.randint(0, 100)})
            conn.execute(insert(Lead), rows)
            conn.exec_driver_sql("ANALYZE leads")
    finally:
        engine.dispose()


def _tokens(url: str, usernames: list[str]) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, org_id FROM users WHERE username = ANY(:names) ORDER BY id"),
                {"names": usernames},
            ).all()
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    return [issue_access_token(uid, org, SECRET_KEY, now, 120) for uid, org in rows]


def _client_process(base, tokens, args, ready, results) -> None:
    samples: dict = defaultdict(list)
    lock = threading.Lock()
    agents = []
    for token in tokens:  # one by one: a burst of handshakes is not the load being measured
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        client = connect_console(base, token, http)
        client.call("agent_state", {"state": "available"}, namespace="/dialer", timeout=60)
        agents.append((client, http))
    ready.wait(timeout=600)
    until = time.monotonic() + args.duration
    threads = [
        threading.Thread(target=_agent, args=(client, http, base, args, until, samples, lock))
        for client, http in agents
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client, _ in agents:
        threading.Thread(target=client.disconnect, daemon=True).start()
    results.put(dict(samples))


def _agent(client, http, base, args, until, samples, lock) -> None:
    """One agent's working day, compressed; samples merged into `samples` at the end."""
    rng = random.Random()
    calls: dict[int, set[str]] = defaultdict(set)
    changed = threading.Condition()
    local: list[tuple[str, object]] = []

    def on_call_state(data):
        with changed:
            calls[data["call_id"]].add(data["state"])
            changed.notify_all()

    def wait_state(call_id, states) -> bool:
        with changed:
            return changed.wait_for(lambda: calls[call_id] & states, timeout=TIMEOUT)

    def timed(action, send):
        started = time.perf_counter()
        try:
            answer = send()
        except (socketio.exceptions.TimeoutError, requests.RequestException) as err:
            local.append(("error", f"{action}: {type(err).__name__}"))
            return None
        local.append((action, (time.perf_counter() - started) * 1000))
        return answer

    def emit(event, data):
        answer = timed(
            event, lambda: client.call(event, data, namespace="/dialer", timeout=TIMEOUT)
        )
        if answer is not None and not answer.get("ok"):
            local.append(("error", f"{event}: {answer.get('code')}"))
            return None
        return answer

    def post(action, path, body):
        response = timed(
            action, lambda: http.post(f"{base}/api/v1{path}", json=body, timeout=TIMEOUT)
        )
        if response is not None and response.status_code >= 300:
            local.append(("error", f"{action}: HTTP {response.status_code}"))
            return None
        return response.json() if response is not None else None

    client.on("call_state", on_call_state, namespace="/dialer")
    while True:
        if args.pace:  # no pause past the end: one long draw would hold the whole run
            time.sleep(min(rng.expovariate(1 / args.pace), max(0.0, until - time.monotonic())))
        if time.monotonic() >= until:
            break
        lead = post("claim-next", "/leads/claim-next", {})
        if lead is None:
            continue
        local.append(("claimed", lead["id"]))
        dialed = emit("dial", {"lead_id": lead["id"]})
        if dialed is None:
            continue
        call_id = dialed["call_id"]
        local.append(("call", call_id))
        if not wait_state(call_id, {"answered", "ended"}):
            local.append(("lost call", call_id))
            continue
        if "ended" not in calls[call_id]:
            emit("hangup", {"call_id": call_id})
        if not wait_state(call_id, {"ended"}):
            local.append(("lost call", call_id))
            continue
        outcome = {"call_id": call_id, "disposition": "no_answer"}
        if "answered" in calls[call_id]:
            outcome["disposition"] = rng.choice(("interested", "callback", "not_interested"))
        if outcome["disposition"] == "callback":
            outcome["next_followup_at"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        emit("disposition", outcome)
        note = {"channel": "wechat", "content": "已加微信，发了产品资料"}
        post("follow-up", f"/leads/{lead['id']}/followups", note)
        local.append(("cycle", 1))
    with lock:
        for name, value in local:
            samples[name].append(value)


def _database_checks(url: str, samples: dict) -> dict:
    """Double claims, and the run's calls still open in the database 30 s after it (an end in
    flight on a loaded machine gets that long to land)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            claimed, distinct = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT lead_id) FROM lead_events"
                    " WHERE kind = 'claimed'"
                )
            ).one()
            deadline = time.monotonic() + 30
            while True:
                still_open = set(
                    conn.scalars(
                        text("SELECT id FROM calls WHERE state <> 'ended' AND id = ANY(:ids)"),
                        {"ids": samples.get("call", [])},
                    )
                )
                conn.rollback()
                if not still_open or time.monotonic() > deadline:
                    break
                time.sleep(1)
            # how the calls a console gave up on ended, if they did: says whose fault it was
            lost_ends = Counter(
                conn.scalars(
                    text(
                        "SELECT state || ' ' || coalesce(end_reason, '') FROM calls"
                        " WHERE id = ANY(:ids)"
                    ),
                    {"ids": samples.get("lost call", [])},
                )
            )
    finally:
        engine.dispose()
    answers = samples.get("claimed", [])
    return {
        "double claims": (claimed - distinct) + (len(answers) - len(set(answers))),
        "claims recorded": claimed,
        "open calls": still_open,
        "lost calls' ends": lost_ends,
    }


@dataclass
class Cpu:
    """CPU seconds of the run: the web processes', the PostgreSQL server's (all its processes),
    and how many sessions of other clients the server had at the end (theirs is in it too)."""

    web: float
    postgresql: float
    other_clients: int


def _report(samples: dict, database: dict, args: argparse.Namespace, cpu: Cpu) -> None:
    cycles = len(samples.get("cycle", []))
    errors = Counter(samples.get("error", []))
    # a call is lost if its console never saw it end, or the database still has it open
    lost = len(set(samples.get("lost call", [])) | database["open calls"])
    print(
        f"\n{args.agents} agents, {args.webs} web process(es) behind nginx, 2 workers, "
        f"{args.duration:.0f} s, pace {args.pace} s; {common.machine_note()}"
    )
    rows = [latency_row(action, samples.get(action, [])) for action in ACTIONS]
    print(common.table(["action (ms)", "n", "p50", "p90", "p99", "max"], rows))
    print(
        f"\nthroughput: {cycles / args.duration:.1f} leads worked/s "
        f"({len(samples.get('call', [])) / args.duration:.1f} calls/s, "
        f"{sum(len(samples.get(a, [])) for a in ACTIONS) / args.duration:.1f} actions/s)"
    )
    for whose, seconds in (("web processes'", cpu.web), ("PostgreSQL server's", cpu.postgresql)):
        print(
            f"{whose} CPU {seconds:.1f} s = {100 * seconds / args.duration:.0f}% of one core, "
            f"{1000 * seconds / max(cycles, 1):.1f} ms per lead worked"
        )
    if cpu.other_clients:
        print(f"  (the PostgreSQL server also had {cpu.other_clients} other clients' sessions)")
    print(
        f"errors {sum(errors.values())}, double claims {database['double claims']}, "
        f"lost calls {lost} (claims recorded {database['claims recorded']})"
    )
    for end, count in database["lost calls' ends"].most_common():
        print(f"  a call its console gave up on, in the database: {end} × {count}")
    for error, count in errors.most_common():
        print(f"  error: {error} × {count}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--webs", type=int, default=2, help="web processes behind nginx")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of work")
    parser.add_argument(
        "--pace", type=float, default=30.0, help="mean seconds between an agent's leads"
    )
    parser.add_argument("--leads", type=int, default=20_000, help="public leads to claim from")
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    return parser.parse_args()


if __name__ == "__main__":
    main()
