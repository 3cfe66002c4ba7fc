"""claim-next by 50 concurrent agents over a million leads: claims/s, p50/p99 ms, double claims."""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import itertools
import multiprocessing
import os
import pstats
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import requests
from flask import Flask
from sqlalchemy import event, func, insert, select, text

from bench import common, web_process
from bench.dialer_consoles import with_children
from bench.generate import LeadFaker
from bench.list_leads import SqlClock, analyze, login
from crm.auth.actor import SYSTEM, Actor
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead, LeadEvent
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.pools import service
from crm.pools.models import ClaimBlock
from crm.scoring import runs
from tests.live_server import start_server, stop_server

BATCH = 5_000
# Encrypting a million phone numbers would time the loader, not claim-next: a few thousand real
# rows are repeated with a synthetic blind index, which is all the dedupe constraint looks at.
TEMPLATES = 5_000
APPLICATION = "bench_claim_next"
# the connections of the production web process started by served()
SERVED = "bench_claim_served"
CITIES = ["北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安"]


def load(rows: int, org_id: int, owner_id: int, seed: int) -> None:
    """`rows` leads: ~70% in the public pool, scores skewed low, created over the last year."""
    rng, fake, now = random.Random(seed), LeadFaker(seed), utcnow()
    templates = [
        lead_columns(
            runtime.vault,
            LeadDraft(phone=str(fake.mobile()), source="bench", city=rng.choice(CITIES)),
            org_id,
            None,
            now,
        )
        for _ in range(TEMPLATES)
    ]
    start = time.perf_counter()
    with db.engine.begin() as conn:
        for first in range(0, rows, BATCH):
            batch = []
            for i in range(first, min(first + BATCH, rows)):
                owned = rng.random() < 0.3
                batch.append(
                    templates[i % TEMPLATES]
                    | {
                        "phone_bidx": f"bench{i:011d}",
                        "score": int(rng.triangular(0, 100, 35)),
                        "created_at": now - timedelta(days=365 * rng.random()),
                        "owner_id": owner_id if owned else None,
                        "claimed_at": now if owned else None,
                    }
                )
            conn.execute(insert(Lead.__table__), batch)
            if (first + BATCH) % 200_000 == 0:
                print(f"  loaded {first + BATCH:,} leads, {time.perf_counter() - start:.0f} s")


def block_some(org_id: int, agent_ids: list[int], per_agent: int = 20) -> None:
    """Reclaim cooldowns as agents who released leads have them, so claim-next's NOT EXISTS
    runs against real rows (the planner would otherwise know the table to be empty)."""
    until = utcnow() + timedelta(days=3)
    with db.engine.begin() as conn:
        public = conn.scalars(
            select(Lead.id)
            .where(Lead.owner_id.is_(None))
            .order_by(func.random())
            .limit(len(agent_ids) * per_agent)
        ).all()
        blocks = [
            {
                "org_id": org_id,
                "lead_id": lead_id,
                "user_id": agent_ids[n % len(agent_ids)],
                "until": until,
            }
            for n, lead_id in enumerate(public)
        ]
        conn.execute(insert(ClaimBlock.__table__), blocks)
    analyze()


def agents_can_claim_all_day(org_id: int) -> None:
    """Lift the daily cap and the private-pool limit: the bench times claims, not refusals."""
    with db.unit_of_work(SYSTEM) as session:
        org = session.get(Org, org_id)
        org.settings = OrgSettings(max_private_leads=100_000, daily_claim_cap=10_000).model_dump()


def via_service(agent_ids: list[int]) -> list[Callable[[], int]]:
    with db.unit_of_work(SYSTEM) as session:
        actors = [actor_for_user(session, user_id) for user_id in agent_ids]

    def claimer(actor: Actor) -> Callable[[], int]:
        def claim() -> int:
            with db.unit_of_work(actor) as session:
                return service.claim_next(session, actor).id

        return claim

    return [claimer(actor) for actor in actors]


def via_http(app: Flask, usernames: list[str]) -> list[Callable[[], int]]:
    """The whole request: token, actor refresh, validation, JSON (no network, no WSGI server)."""

    def claimer(username: str) -> Callable[[], int]:
        client = app.test_client()
        auth = login(client, username)

        def claim() -> int:
            response = client.post("/api/v1/leads/claim-next", json={}, headers=auth)
            if response.status_code != 200:
                raise DomainError(response.json["error"]["code"], "claim-next refused")
            return response.json["id"]

        return claim

    return [claimer(username) for username in usernames]


@dataclass
class Share:
    """One process's part of a run (its agents and the run's timing), and what it measured."""

    via: str
    agent_ids: list[int]
    usernames: list[str]
    seconds: float
    warmup: float
    # seconds between one agent's claims when the load is paced, 0 when agents claim flat out
    interval: float
    timed_ms: list[float] = field(default_factory=list)
    lead_ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0


def run(
    app: Flask,
    via: str,
    org_id: int,
    agent_ids: list[int],
    args: argparse.Namespace,
    rate: int,
    url: str,
) -> dict[str, Any]:
    """Agents claim in a loop, one thread each, spread over forked processes (like web workers:
    one Python process cannot run 50 agents' code at once); claims due in the window after the
    warm-up are timed. With a `rate`, agents claim on a schedule adding up to that many claims
    a second, and a claim that starts late counts its wait (no coordinated omission)."""
    usernames = [f"bench_agent{i:03d}" for i in range(len(agent_ids))]
    interval = len(agent_ids) / rate if rate else 0.0
    n = args.processes
    shares = [
        Share(via, agent_ids[k::n], usernames[k::n], args.seconds, args.warmup, interval)
        for k in range(n)
    ]
    fork = multiprocessing.get_context("fork")
    # `counted`: the workers keep their connections, so their database backends are still
    # there to be counted, until the parent has read the database's CPU
    aligned, counted, results = fork.Barrier(n), fork.Barrier(n + 1), fork.Queue()
    workers = [
        fork.Process(target=_run_share, args=(app, s, aligned, counted, results)) for s in shares
    ]
    # the backends of the agents' connections only (the workers open them after the fork)
    database_cpu = common.backends_cpu_seconds(url, APPLICATION)
    for worker in workers:
        worker.start()
    neighbours = Neighbours()  # after forking: the children must not inherit its connection
    rescore = Rescore(org_id) if args.rescore else None
    done = [results.get() for _ in workers]
    after = common.backends_cpu_seconds(url, APPLICATION)
    database_cpu = sum(cpu - database_cpu.get(pid, 0.0) for pid, cpu in after.items())
    counted.wait()
    for worker in workers:
        worker.join()
    claimed = [lead_id for share in done for lead_id in share.lead_ids]
    timed = [ms for share in done for ms in share.timed_ms]
    refusals = Counter(code for share in done for code in share.errors)
    cuts = statistics.quantiles(timed, n=100, method="inclusive")
    return {
        "claims/s": len(timed) / args.seconds,
        "p50": cuts[49],
        "p99": cuts[98],
        "max": max(timed),
        "python cpu": sum(share.cpu_seconds for share in done) * 1000 / len(timed),
        # over the whole run, warm-up included, as are the claims it is divided by
        "database cpu": database_cpu * 1000 / len(claimed),
        "refusals": ", ".join(f"{code} {n}" for code, n in refusals.most_common()) or "-",
        "rescored": rescore.stop() if rescore else "-",
        **neighbours.stop(),
        "lead_ids": claimed,
    }


def _run_share(app: Flask, share: Share, aligned: Any, counted: Any, results: Any) -> None:
    db.engine.dispose(close=False)  # the parent's connections stay the parent's
    claimers = (
        via_service(share.agent_ids) if share.via == "service" else via_http(app, share.usernames)
    )
    started, stop = threading.Barrier(len(claimers) + 1), threading.Event()
    samples: list[list[tuple[float, float, int]]] = [[] for _ in claimers]

    def agent(claim: Callable[[], int], out: list[tuple[float, float, int]]) -> None:
        started.wait()
        due = time.perf_counter() + random.uniform(0, share.interval)
        while not stop.is_set():
            if share.interval:
                time.sleep(max(0.0, due - time.perf_counter()))
            begun = due if share.interval else time.perf_counter()
            due = begun + share.interval
            try:
                lead_id = claim()
            except DomainError as refused:
                share.errors.append(refused.code)
                continue
            out.append((begun, time.perf_counter() - begun, lead_id))

    threads = [
        threading.Thread(target=agent, args=pair) for pair in zip(claimers, samples, strict=True)
    ]
    for thread in threads:
        thread.start()
    aligned.wait()
    started.wait()
    first = time.perf_counter() + share.warmup
    time.sleep(share.warmup)
    cpu = time.process_time()
    time.sleep(share.seconds)
    share.cpu_seconds = time.process_time() - cpu
    stop.set()
    for thread in threads:
        thread.join()
    for at, elapsed, lead_id in (sample for per_agent in samples for sample in per_agent):
        share.lead_ids.append(lead_id)
        if first <= at < first + share.seconds:
            share.timed_ms.append(elapsed * 1000)
    results.put(share)
    counted.wait()


def owned_by(agent_id: int) -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.scalars(select(Lead.id).where(Lead.owner_id == agent_id)))


def double_claims(lead_ids: list[int], agent_ids: list[int]) -> int:
    """Leads handed to more than one agent so far: claimed events by SQL against the leads the
    agents own and the answers they got (every claim writes exactly one event)."""
    with db.engine.connect() as conn:
        events, distinct = conn.execute(
            select(func.count(), func.count(LeadEvent.lead_id.distinct())).where(
                LeadEvent.kind == "claimed"
            )
        ).one()
        owned = conn.scalar(select(func.count()).where(Lead.owner_id.in_(agent_ids)))
    assert events == len(lead_ids) == owned, (events, len(lead_ids), owned)
    return (events - distinct) + (len(lead_ids) - len(set(lead_ids)))


class Rescore:
    """An org re-score (the scoring job's body) running beside the agents, as a scheduled one
    would: its batches lock the leads whose score moves until they commit, and claim-next skips
    locked leads. Stopped after the batch in progress when the run ends."""

    def __init__(self, org_id: int) -> None:
        self.leads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(org_id,))
        self._thread.start()

    def _run(self, org_id: int) -> None:
        request = runs.RunRequest(org_id)
        with contextlib.suppress(_Stopped):
            runs.run(lambda: db.unit_of_work(SYSTEM), uuid4().hex, request, None, self._progress)

    def _progress(self, done: float) -> None:
        self.leads += runs.BATCH_SIZE
        if self._stop.is_set():
            raise _Stopped

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        return f"{self.leads:,}"


class _Stopped(Exception):
    """Raised from the run's progress report to end it after the batch it just committed."""


class Neighbours:
    """Watches, while a run goes on, what else loads this machine and this PostgreSQL: the load
    average, and the oldest transaction of other sessions. Such a transaction holds back the
    xmin horizon, so the index entries of leads claimed since it began cannot be marked dead
    and every claim-next walks past all of them."""

    def __init__(self) -> None:
        self.oldest_other_xact = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch)
        self._thread.start()

    def _watch(self) -> None:
        query = text(
            "SELECT coalesce(extract(epoch FROM max(now() - xact_start)), 0) FROM pg_stat_activity"
            " WHERE application_name <> :us AND pid <> pg_backend_pid()"
        )
        with db.engine.connect() as conn:
            # named apart, so the agents' database CPU leaves this watcher's queries out
            conn.exec_driver_sql("SET application_name = 'bench_neighbours'")
            while not self._stop.wait(0.5):
                oldest = float(conn.scalar(query, {"us": APPLICATION}))
                conn.rollback()
                self.oldest_other_xact = max(self.oldest_other_xact, oldest)

    def stop(self) -> dict[str, str]:
        self._stop.set()
        self._thread.join()
        return {"load": f"{os.getloadavg()[0]:.1f}", "xact": f"{self.oldest_other_xact:.1f}"}


def explain_candidate_query(agent_id: int, clock: SqlClock) -> int:
    """EXPLAIN ANALYZE the statement claim-next picks its lead with, as one agent runs it;
    returns the lead that agent claimed on the way."""
    clock.statements = []
    lead_id = via_service([agent_id])[0]()
    stmt, params = next((s, p) for s, p in clock.statements if "SKIP LOCKED" in s)
    clock.statements = None
    print(f"\n{stmt}\n-- parameters: {params}")
    with db.engine.connect() as conn:
        for (line,) in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + stmt, params):
            print("  " + line)
        conn.rollback()
    return lead_id


# Where one claim's Python time goes: (label, source file, function), the request's plumbing
# first, then the service call and its parts. Times are cumulative, so parts overlap wholes.
PROFILED = [
    ("whole request (Flask test client)", "flask/testing.py", "open"),
    ("  token: JWT decode", "crm/auth/tokens.py", "decode_access_token"),
    # through HTTP the lock is the actor's refresh too (one statement); the service locks itself
    ("  lock agent: actor, settings (service)", "crm/pools/service.py", "lock_claimer"),
    ("  lock agent with BEGIN (HTTP)", "crm/pools/service.py", "begin_claim"),
    ("  claim_next service", "crm/pools/service.py", "claim_next"),
    # PostgreSQL: one statement takes the lead, counts the day's claim and logs the event
    ("    take (UPDATE … RETURNING; service)", "sqlalchemy/orm/session.py", "scalars"),
    ("    SQLite: count the day's claim", "crm/pools/service.py", "_count_claim"),
    # HTTP on PostgreSQL: BEGIN + lock, take + COMMIT, one round trip each
    ("  pipelined lock and take (HTTP)", "crm/pools/pipelined.py", "run"),
    ("  commit (HTTP: nothing left to commit)", "sqlalchemy/orm/session.py", "commit"),
    ("  response: schema + JSON", "crm/http.py", "_answer"),
]


def profile(app: Flask, agent_id: int, username: str, claims: int) -> None:
    """One agent claims `claims` times in a row under cProfile, through the service and through
    HTTP: wall time per claim, and the CPU milliseconds per claim this process spends in each
    part (cProfile's overhead inflates them alike)."""
    rows = []
    for via, claim in (
        ("service", via_service([agent_id])[0]),
        ("http", via_http(app, [username])[0]),
    ):
        # CPU time of this process: what our Python costs, not the wait for a busy server
        profiler = cProfile.Profile(time.process_time)
        began = time.perf_counter()
        profiler.runcall(_repeat, claim, claims)
        wall = (time.perf_counter() - began) * 1000 / claims
        stats = pstats.Stats(profiler).stats  # (file, line, name) -> (.., .., own, cumulative, ..)
        rows.append([via, "wall per claim (waits included)", wall])
        for label, path, name in PROFILED:
            spent = sum(
                row[3]
                for (file, _, func_name), row in stats.items()
                if func_name == name and file.endswith(path)
            )
            if spent:
                rows.append([via, label, spent * 1000 / claims])
    print(f"\nwhere a claim's time goes, {claims} claims in a row by one agent, under cProfile:")
    print(common.table(["via", "part", "ms per claim"], rows))
    print("(parts: CPU of this process; the wall time adds the database's work and waits)")


def _repeat(claim: Callable[[], int], times: int) -> None:
    for _ in range(times):
        claim()


def database_split(app: Flask, username: str, claims: int) -> None:
    """Where PostgreSQL's CPU per claim goes, statement by statement, one agent through HTTP:
    the serving backend's on-CPU nanoseconds (/proc/<pid>/schedstat, not tick-rounded) read
    around each statement; what falls between statements is BEGIN, the pool's pre-ping and
    COMMIT (with its WAL flush)."""
    spent: Counter[str] = Counter()
    began: dict[int, int] = {}

    def backend(conn: Any) -> int:
        return conn.connection.dbapi_connection.info.backend_pid

    def before(conn, cursor, statement, *_):
        began[id(cursor)] = _on_cpu_ns(backend(conn))

    def after(conn, cursor, statement, *_):
        words = statement.split(None, 3)
        label = " ".join(words[:3] if words[0] == "INSERT" else words[:1])
        spent[label.lower()] += _on_cpu_ns(backend(conn)) - began.pop(id(cursor))

    claim = via_http(app, [username])[0]
    _repeat(claim, 50)  # warm: psycopg prepares a statement on its fifth run
    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    total = sum(_on_cpu_ns(p) for p in _pool_backends())
    try:
        _repeat(claim, claims)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    total = sum(_on_cpu_ns(p) for p in _pool_backends()) - total
    rows = [[label, ns / 1e6 / claims] for label, ns in spent.most_common()]
    between = total - sum(spent.values())
    rows.append(["between statements (BEGIN, pre-ping, COMMIT)", between / 1e6 / claims])
    rows.append(["all", total / 1e6 / claims])
    print(f"\nPostgreSQL CPU per claim by statement, {claims} claims through HTTP:")
    print(common.table(["statement", "ms per claim"], rows))


def by_owned(app: Flask, username: str, bands: int, band: int = 200) -> None:
    """CPU per claim as one agent's private pool fills, `band` claims at a time from empty:
    the private-pool limit counts the agent's open leads on every claim. The org's default
    limit is 200; this bench lifts it so agents never stop, and by the end of a flat-out row
    each owns hundreds to thousands."""
    claim, rows = via_http(app, [username])[0], []
    for first in range(0, bands * band, band):
        backends = _pool_backends()
        pg_before, py_before = sum(map(_on_cpu_ns, backends)), time.process_time()
        _repeat(claim, band)
        py = (time.process_time() - py_before) * 1000 / band
        pg = (sum(map(_on_cpu_ns, backends)) - pg_before) / 1e6 / band
        rows.append([f"{first:,}–{first + band:,}", py, pg, py + pg])
    print("\nCPU per claim by how many leads the agent owns, one agent through HTTP:")
    print(common.table(["owned before", "py ms", "pg ms", "all ms"], rows))


def served(url: str, agent: str, warmer: str, bands: int, redis_url: str, band: int = 100) -> None:
    """CPU per claim in a production web process: gunicorn's gevent worker started as
    deploy/systemd/loanline-web@.service starts it (REDIS_URL set, so no in-process scheduler),
    one agent claiming over a keep-alive HTTP connection from this process. Counted: the web
    process (arbiter and worker, every thread) and its PostgreSQL backends; the client's CPU is
    shown beside, not counted. The in-process rows above count the Flask test client, which
    builds and reads each request, in place of a server that parses and writes it. `warmer`
    claims first, so the fresh process's first compilations and psycopg's first, unprepared
    runs of each statement are not in `agent`'s figures."""
    command, env = web_process.command_and_env(redis_url)
    named = f"{url}&application_name={SERVED}"
    server = start_server(env, named, common.scratch_path("served"), command)
    try:
        http = requests.Session()
        _repeat(web_process.claimer(http, server.base, warmer), 50)
        claim = web_process.claimer(http, server.base, agent)
        web, rows = with_children(server.process.pid), []
        for first in range(0, bands * band, band):
            backends = _pool_backends(SERVED)
            before = sum(map(_process_on_cpu_ns, web)), sum(map(_on_cpu_ns, backends))
            client = time.process_time()
            _repeat(claim, band)
            client = (time.process_time() - client) * 1000 / band
            py = (sum(map(_process_on_cpu_ns, web)) - before[0]) / 1e6 / band
            pg = (sum(map(_on_cpu_ns, backends)) - before[1]) / 1e6 / band
            rows.append([f"{first:,}–{first + band:,}", py, pg, py + pg, client])
    finally:
        stop_server(server)
    print("\nCPU per claim in a production web process (gunicorn, gevent), one agent over HTTP:")
    print(common.table(["owned before", "web ms", "pg ms", "all ms", "client ms"], rows))


def _pool_backends(application: str = APPLICATION) -> list[int]:
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :app"),
                {"app": application},
            )
        )


def _on_cpu_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def _process_on_cpu_ns(pid: int) -> int:
    """On-CPU nanoseconds of every thread of a process (/proc/<pid>/schedstat is its first)."""
    threads = Path(f"/proc/{pid}/task").iterdir()
    return sum(int((thread / "schedstat").read_text().split()[0]) for thread in threads)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument(
        "--rates",
        type=int,
        nargs="+",
        default=[0, 50, 100, 200],
        help="total claims a second the agents try to make; 0: each claims again at once",
    )
    parser.add_argument(
        "--via", nargs="+", choices=("service", "http"), default=["service", "http"]
    )
    parser.add_argument(
        "--profile", type=int, default=300, help="claims to profile one by one first (0: none)"
    )
    parser.add_argument(
        "--served",
        type=int,
        default=3,
        help="bands of 100 claims by one agent through a production web process (0: none)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="an org re-score runs while the agents claim (every generated score changes)",
    )
    args = parser.parse_args(argv)
    with common.scratch_database("postgresql") as url:
        app = common.make_app(url)
        # one connection per agent, as 50 agents spread over web processes would hold
        db.configure(
            url,
            pool_size=args.agents,
            max_overflow=0,
            connect_args={"application_name": APPLICATION},
        )
        org_id, manager_id, _, agent_ids = common.seed_org(agents=args.agents)
        agents_can_claim_all_day(org_id)
        start = time.perf_counter()
        load(args.rows, org_id, manager_id, args.seed)
        block_some(org_id, agent_ids)
        print(f"loaded {args.rows:,} leads in {time.perf_counter() - start:.0f} s")
        print("\nthe candidate query on the fresh pool:")
        clock = SqlClock()
        rows, claimed = [], [explain_candidate_query(agent_ids[0], clock)]
        if args.profile:
            profile(app, agent_ids[1], "bench_agent001", args.profile)
            database_split(app, "bench_agent001", args.profile)
            claimed += owned_by(agent_ids[1])
            if len(agent_ids) > 2:
                by_owned(app, "bench_agent002", bands=10)
                claimed += owned_by(agent_ids[2])
        if args.served and len(agent_ids) > 4:
            served(url, "bench_agent003", "bench_agent004", args.served, args.redis_url)
            claimed += owned_by(agent_ids[3]) + owned_by(agent_ids[4])
        for via, rate in itertools.product(args.via, args.rates):
            common.checkpoint()
            result = run(app, via, org_id, agent_ids, args, rate, url)
            claimed += result.pop("lead_ids")
            rows.append([via, rate or "flat out", *result.values()])
            rows[-1].append(double_claims(claimed, agent_ids))
        print(
            f"\npostgresql, {args.rows:,} leads, {args.agents} agents in {args.processes} "
            f"processes, {args.seconds:.0f} s timed after {args.warmup:.0f} s warm-up"
        )
        header = ["via", "offered/s", "claims/s", "p50 ms", "p99 ms", "max ms"]
        others = ["py cpu ms/claim", "pg cpu ms/claim", "refusals", "leads re-scored", "load avg"]
        others += ["oldest other xact s", "double claims"]
        print(common.table([*header, *others], rows))
        print("goal: p99 < 20 ms at >= 1,000 claims/s, 0 double claims")
        print("\nthe candidate query after the runs:")
        explain_candidate_query(agent_ids[0], clock)
        with db.engine.connect() as conn:
            print(conn.scalar(text("SELECT version()")))


if __name__ == "__main__":
    main()
