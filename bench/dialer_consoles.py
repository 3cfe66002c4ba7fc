"""500 agent consoles dialing through the simulated carrier against one `python wsgi.py`.

Each console is a real python-socketio client (websocket transport) on loopback: it goes
available, then dials one of its leads, hangs up once the callee answers (or waits for the carrier
to end the call) and records a disposition, again and again, `--pace` seconds apart on average
(30 s: about 17 calls/s from 500 agents, a busy outbound floor). Measured, in ms:
- `dial ack`, `hangup ack`, `disposition ack`: emit → ack round trip;
- `dial → ringing`: the call's start → its ringing call_state at the console, less the
  carrier's 3 ms ring delay (at --time-scale 0.01): the server's whole path, carrier included;
- `carrier → answered|ended`: the carrier's event stamp → the console; the simulated carrier
  stamps an event when its one thread gets to it, so a backlog there shows in dial → ringing only.
And calls/s, and the server's CPU time.

    .venv/bin/python -m bench.dialer_consoles                     # 500 consoles, 30 s
    .venv/bin/python -m bench.dialer_consoles --pace 10           # 3x the calls: saturates
    .venv/bin/python -m bench.dialer_consoles --db postgres       # PostgreSQL instead of SQLite
    .venv/bin/python -m bench.dialer_consoles --servers 2         # 2 processes sharing Redis
    .venv/bin/python -m bench.dialer_consoles --async-mode threading  # the embedded server

The clients run in `--procs` processes of threads (python-socketio's AsyncClient needs aiohttp,
which the project does not install); they share the machine's 2 cores with the server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path

import socketio
from sqlalchemy import create_engine, text

from bench import common
from crm.auth.tokens import issue_access_token
from crm.config import ASYNC_MODES
from tests.live_server import (
    SECRET_KEY,
    add_agents,
    fresh_database,
    prepare_database,
    set_org_settings,
    start_server,
    stop_server,
)

HQ = "融信总部"
CALLER_IDS = 25  # x daily cap 2000: 50,000 calls a day
ANSWERED_DISPOSITIONS = ("interested", "callback", "not_interested")


def main() -> None:
    args = _parse_args()
    from crm.compliance.crypto import PiiKeyring

    pii_keys = PiiKeyring.generate_json()
    folder = common.scratch_path("servers")
    usernames = [f"console{n:03d}" for n in range(args.consoles)]
    with fresh_database_of(args.db, folder) as url:
        started = time.perf_counter()
        prepare_database(url, pii_keys)
        add_agents(url, pii_keys, usernames, leads_each=args.leads_each)
        set_org_settings(url, HQ, max_calls_per_lead_per_day=50, daily_open_cap=100_000)
        consoles = _consoles(url, usernames)
        env = {
            "PII_KEYS": pii_keys,
            "SIM_TIME_SCALE": str(args.time_scale),
            "SIM_ANSWER_RATE": str(args.answer_rate),
            "SIM_SEED": str(args.seed),
            "ASYNC_MODE": args.async_mode,
        }
        if args.servers > 1:  # processes share the Socket.IO message queue, as in production
            env |= {"REDIS_URL": args.redis_url, "SOCKETIO_CHANNEL": f"bench-{os.getpid()}"}
        servers = []
        try:
            for n in range(args.servers):
                servers.append(start_server(env, url, folder / f"server-{n}"))
            for n in range(CALLER_IDS):
                body = {"number": f"0109000{n:04d}", "daily_cap": 2000}
                response = servers[0].api("manager", "POST", "/caller-ids", json=body)
                assert response.status_code == 201
            print(f"set up in {time.perf_counter() - started:.1f} s; {common.machine_note()}")
            pids = [pid for server in servers for pid in with_children(server.process.pid)]
            cpu_before = server_cpu_seconds(pids)
            samples = _run([server.base for server in servers], consoles, args)
            cpu = server_cpu_seconds(pids) - cpu_before
        finally:
            for server in servers:
                stop_server(server)
    _report(samples, args, cpu)


def fresh_database_of(kind: str, folder: Path):
    if kind == "postgres":
        return common.scratch_database("postgres")
    return fresh_database(folder)


def _consoles(url: str, usernames: list[str]) -> list[tuple[str, list[int]]]:
    """(access token, lead ids) of each console; tokens minted with the server's key."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT u.id, u.org_id, l.id FROM users u JOIN leads l ON l.owner_id = u.id"
                    " WHERE u.username LIKE 'console%' ORDER BY u.id, l.id"
                )
            ).all()
    finally:
        engine.dispose()
    leads: dict[tuple[int, int], list[int]] = defaultdict(list)
    for user_id, org_id, lead_id in rows:
        leads[(user_id, org_id)].append(lead_id)
    now = datetime.now(UTC)
    assert len(leads) == len(usernames)
    return [
        (issue_access_token(user_id, org_id, SECRET_KEY, now, 120), ids)
        for (user_id, org_id), ids in leads.items()
    ]


def _run(bases: list[str], consoles: list, args: argparse.Namespace) -> dict:
    """Each process's consoles are spread over the servers (a console stays on its server, as
    sticky sessions keep it)."""
    return run_clients(_client_process, bases, consoles, args, "consoles")


def run_clients(target, servers, clients: list, args: argparse.Namespace, what: str) -> dict:
    """Spreads `clients` over `args.procs` processes of `target(servers, share, args, ready,
    results)`, which connects its share, waits at `ready` so all start at the same moment,
    works, and puts its samples on `results`; returns the samples merged."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    ready = ctx.Barrier(args.procs + 1)
    procs = [
        ctx.Process(target=target, args=(servers, clients[n :: args.procs], args, ready, results))
        for n in range(args.procs)
    ]
    for proc in procs:
        proc.start()
    connecting = time.perf_counter()
    ready.wait(timeout=600)  # every client connected
    print(f"{len(clients)} {what} connected in {time.perf_counter() - connecting:.1f} s")
    merged: dict = defaultdict(list)
    for _ in procs:
        for key, values in results.get(timeout=args.duration + 600).items():
            merged[key] += values
    for proc in procs:
        proc.join()
    return merged


def _client_process(bases, share, args, ready, results) -> None:
    samples: dict = defaultdict(list)
    lock = threading.Lock()
    clients = []
    # connect one by one: the server's listen backlog is 128
    for (token, _leads), base in zip(share, cycle(bases)):
        client = connect_console(base, token)
        # going available is part of connecting: 500 at once would be a burst, not the load
        started = time.perf_counter()
        client.call("agent_state", {"state": "available"}, namespace="/dialer", timeout=60)
        samples["agent_state ack"].append((time.perf_counter() - started) * 1000)
        clients.append(client)
    ready.wait(timeout=300)
    until = time.monotonic() + args.duration
    threads = [
        threading.Thread(target=_agent, args=(c, leads, args, until, samples, lock))
        for c, (_token, leads) in zip(clients, share, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        threading.Thread(target=client.disconnect, daemon=True).start()
    results.put(dict(samples))


def connect_console(base: str, token: str, http=None) -> socketio.Client:
    """A console on /dialer over WebSocket; `http`: a requests session for its cookies."""
    client = socketio.Client(reconnection=False, http_session=http)
    client.connect(
        base,
        namespaces=["/dialer"],
        auth={"token": token},
        transports=["websocket"],
        wait_timeout=60,
    )
    return client


def _agent(client, leads, args, until, samples, lock) -> None:
    """One agent's working loop; samples are (name, value) appended under `lock`."""
    rng = random.Random()
    calls: dict[int, dict[str, float]] = defaultdict(dict)
    changed = threading.Condition()
    local: list[tuple[str, float]] = []  # merged into `samples` at the end: one lock taking
    ring_delay_ms = 0.3 * args.time_scale * 1000  # the simulated carrier rings after 0.3 s

    def on_call_state(data):
        received = time.time()
        with changed:
            calls[data["call_id"]][data["state"]] = received
            at = datetime.fromisoformat(data["at"]).timestamp()
            if data["state"] == "ringing":  # stamped with the call's start: less the ring delay
                local.append(("dial → ringing", (received - at) * 1000 - ring_delay_ms))
            elif data["state"] != "dialing":  # stamped by the carrier when it sent the event
                local.append((f"carrier → {data['state']}", (received - at) * 1000))
            changed.notify_all()

    def wait_state(call_id, states, timeout=60.0):
        deadline = time.monotonic() + timeout
        with changed:
            while not any(s in calls[call_id] for s in states):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                changed.wait(left)
            return next(s for s in ("ended", "answered") if s in calls[call_id])

    def timed(event, data):
        started = time.perf_counter()
        ack = client.call(event, data, namespace="/dialer", timeout=60)
        local.append((f"{event} ack", (time.perf_counter() - started) * 1000))
        return ack

    client.on("call_state", on_call_state, namespace="/dialer")
    for lead_id in cycle(leads):
        if args.pace:  # no pause past the end: one long draw would hold the whole run
            time.sleep(min(rng.expovariate(1 / args.pace), max(0.0, until - time.monotonic())))
        if time.monotonic() >= until:
            break
        try:
            ack = timed("dial", {"lead_id": lead_id})
            if not ack.get("ok"):
                local.append((f"refused {ack.get('code')}", 1))
                continue
            call_id = ack["call_id"]
            if wait_state(call_id, ("answered", "ended")) == "answered":
                timed("hangup", {"call_id": call_id})
            if wait_state(call_id, ("ended",)) is None:
                local.append(("lost call", 1))
                continue
            answered = "answered" in calls[call_id]
            outcome = rng.choice(ANSWERED_DISPOSITIONS) if answered else "no_answer"
            timed("disposition", {"call_id": call_id, "disposition": outcome})
            local.append(("connected" if answered else "unanswered", 1))
        except socketio.exceptions.TimeoutError:
            local.append(("ack timeout", 1))
    with lock:
        for name, value in local:
            samples[name].append(value)


def _report(samples: dict, args: argparse.Namespace, server_cpu: float) -> None:
    calls = len(samples.get("connected", [])) + len(samples.get("unanswered", []))
    print(
        f"\n{args.consoles} consoles, {args.servers} server process(es), {args.duration} s, "
        f"pace {args.pace} s, db {args.db}, {args.async_mode}, "
        f"carrier time scale {args.time_scale}, answer rate {args.answer_rate}"
    )
    rows = []
    for name in ("dial ack", "hangup ack", "disposition ack", "agent_state ack"):
        rows.append(latency_row(name, samples.get(name, [])))
    for name in ("dial → ringing", "carrier → answered", "carrier → ended"):
        rows.append(latency_row(name, samples.get(name, [])))
    print(common.table(["round trip (ms)", "n", "p50", "p90", "p99", "max"], rows))
    counts = Counter(
        {k: len(v) for k, v in samples.items() if not k.endswith("ack") and "→" not in k}
    )
    print(
        f"\ncalls completed {calls} = {calls / args.duration:.1f} calls/s "
        f"(connected {counts.pop('connected', 0)}); server CPU {server_cpu:.1f} s "
        f"= {100 * server_cpu / args.duration:.0f}% of one core"
    )
    if counts:
        print("other outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def latency_row(name: str, values: list[float]) -> list[object]:
    if not values:
        return [name, 0, "-", "-", "-", "-"]
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []

    def pick(p):
        return cuts[p - 1] if cuts else ordered[0]

    return [name, len(ordered), pick(50), pick(90), pick(99), ordered[-1]]


def server_cpu_seconds(pids: list[int]) -> float:
    """The server processes' CPU time, with that of their children that have ended."""
    return sum(common.process_cpu_seconds(pid, reaped_children=True) for pid in pids)


def with_children(pid: int) -> list[int]:
    """The process and its live children (gunicorn's worker is the arbiter's child)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consoles", type=int, default=500)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of dialing")
    parser.add_argument(
        "--pace", type=float, default=30.0, help="mean seconds between an agent's calls (0: none)"
    )
    parser.add_argument("--leads-each", type=int, default=3)
    parser.add_argument("--time-scale", type=float, default=0.01)
    parser.add_argument("--answer-rate", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--async-mode",
        choices=ASYNC_MODES,
        default="gevent",
        help="gevent: gunicorn's gevent worker, as production; threading: python wsgi.py",
    )
    parser.add_argument(
        "--servers", type=int, default=1, help="server processes sharing Redis (--redis-url)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    return parser.parse_args()


if __name__ == "__main__":
    main()
