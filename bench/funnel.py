"""Time the funnel report over 1M leads and 5M timeline events created in 30 days."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update

from bench import common
from crm.auth.actor import Actor
from crm.auth.permissions import permissions_for
from crm.extensions import db
from crm.leads.models import FUNNEL
from crm.orgs.models import Team, User
from crm.reports.funnel import funnel_report
from crm.reports.funnel_daily import FunnelDaily, rebuild
from crm.reports.service import Period

DAYS = 30
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the bench org's zone (the default)
SOURCES = ("信息流-抖音", "信息流-快手", "百度竞价", "微信朋友圈", "线下地推")
SOURCES += ("老客户转介绍", "合作机构", "短信营销", "购买名单", "官网表单")
SOURCE_WEIGHTS = (9, 7, 8, 6, 3, 4, 5, 3, 4, 6)
CITIES = ("北京", "上海", "广州", "深圳", "成都", "重庆", "杭州", "武汉", "西安", "南京")
CITIES += ("天津", "苏州", "长沙", "郑州", "东莞", "青岛", "沈阳", "宁波", "昆明", "合肥")
# chance that a lead at stage i goes on to stage i+1: a broker's typical funnel
ADVANCE = (0.6, 0.5, 0.4, 0.6, 0.7)
ENDS = (None, "lost", "rejected")
LEAD_COLUMNS = ("id", "org_id", "name_enc", "name_bidx", "name_masked", "phone_enc")
LEAD_COLUMNS += ("phone_bidx", "phone_masked", "pii_key_id", "is_mobile", "city", "source")
LEAD_COLUMNS += ("qualifications", "score", "stage", "reached_rank", "stage_changed_at")
LEAD_COLUMNS += ("owner_id", "claimed_at", "created_at", "updated_at")
EVENT_COLUMNS = ("org_id", "lead_id", "kind", "actor_id", "at", "data")
QUALIFICATIONS = json.dumps({"provident_fund": True, "house": "none"})
# What --what-if adds, in the throw-away schema only: the cohort scans of the groupings
# funnel_daily cannot answer (agent, team) and of the channel report read only this index.
COVERING_INDEX = {
    "postgresql": "CREATE INDEX ix_leads_org_created_funnel ON leads (org_id, created_at) "
    "INCLUDE (source, city, owner_id, reached_rank, stage)",
    "sqlite": "CREATE INDEX ix_leads_org_created_funnel ON leads "
    "(org_id, created_at, source, city, owner_id, reached_rank, stage)",
}


@dataclass
class Plan:
    """Per lead, the few facts both its row and its events derive from (arrays: 1M is ~20 MB)."""

    created: array  # seconds after the period start, increasing like real inserts
    rank: bytearray
    end: bytearray  # index in ENDS: still in the funnel, lost or rejected
    owner: array
    source: bytearray
    city: bytearray


def plan(rows: int, agents: Sequence[int], seed: int) -> Plan:
    rng = random.Random(seed)
    p = Plan(array("d"), bytearray(), bytearray(), array("q"), bytearray(), bytearray())
    span = DAYS * 86400 - 3600
    sources = rng.choices(range(len(SOURCES)), SOURCE_WEIGHTS, k=rows)
    for i in range(rows):
        rank = 0
        while rank < len(ADVANCE) and rng.random() < ADVANCE[rank]:
            rank += 1
        end = 0
        if rank < len(ADVANCE) and rng.random() < 0.35:
            end = 1
        elif rank == FUNNEL.index("applied") and rng.random() < 0.25:
            end = 2
        owned = rng.random() < (0.95 if rank else 0.4)
        p.created.append(span * i / rows)
        p.rank.append(rank)
        p.end.append(end)
        p.owner.append(rng.choice(agents) if owned else 0)
        p.source.append(sources[i])
        p.city.append(rng.randrange(len(CITIES)))
    return p


def lead_rows(p: Plan, org_id: int, start: datetime, stamp: Callable) -> Iterator[tuple]:
    for i, seconds in enumerate(p.created):
        created = start + timedelta(seconds=seconds)
        rank, owner = p.rank[i], p.owner[i] or None
        stage = ENDS[p.end[i]] or FUNNEL[rank]
        moved = created + timedelta(hours=6 * (rank + 1)) if rank or p.end[i] else None
        yield (
            i + 1,
            org_id,
            f"k1.{i:052d}",
            f"{i + 10**12:064x}",
            "张*",
            f"k1.{i:056d}",
            f"{i:064x}",
            f"138****{i % 10000:04d}",
            "k1",
            True,
            CITIES[p.city[i]],
            SOURCES[p.source[i]],
            QUALIFICATIONS,
            i % 101,
            stage,
            rank,
            stamp(moved),
            owner,
            stamp(created if owner else None),
            stamp(created),
            stamp(moved or created),
        )


def event_rows(
    p: Plan, org_id: int, start: datetime, per_lead: int, stamp: Callable
) -> Iterator[tuple]:
    for i, seconds in enumerate(p.created):
        created = start + timedelta(seconds=seconds)
        owner, lead_id = p.owner[i] or None, i + 1
        yield org_id, lead_id, "created", None, stamp(created), '{"source": "import"}'
        count = 1
        path = [*FUNNEL[: p.rank[i] + 1], *([ENDS[p.end[i]]] if p.end[i] else [])]
        for step, (before, after) in enumerate(pairwise(path), start=1):
            at = stamp(created + timedelta(hours=6 * step))
            data = json.dumps({"from": before, "to": after})
            yield org_id, lead_id, "stage", owner, at, data
            count += 1
        while count < per_lead:
            at = stamp(created + timedelta(hours=3 * count, minutes=7))
            yield org_id, lead_id, "followup", owner, at, '{"channel": "call"}'
            count += 1


def write(table: str, columns: Sequence[str], rows: Iterator[tuple]) -> int:
    """COPY into PostgreSQL, executemany into SQLite; returns the number of rows."""
    written = 0
    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            raw.commit()
        finally:
            raw.close()
        return written
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    with db.engine.begin() as conn:
        while batch := list(islice(rows, 20_000)):
            conn.exec_driver_sql(sql, batch)
            written += len(batch)
    return written


def stamper() -> Callable[[datetime | None], Any]:
    """Datetimes as each backend stores them (SQLite: SQLAlchemy's text form, naive UTC)."""
    if db.engine.dialect.name == "postgresql":
        return lambda value: value
    return lambda value: None if value is None else f"{value:%Y-%m-%d %H:%M:%S.%f}"


def load(rows: int, per_lead: int, org_id: int, agents: Sequence[int], start: datetime) -> None:
    p = plan(rows, agents, seed=11)
    stamp = stamper()
    began = time.perf_counter()
    leads = write("leads", LEAD_COLUMNS, lead_rows(p, org_id, start, stamp))
    print(f"  {leads:,} leads in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    events = write("lead_events", EVENT_COLUMNS, event_rows(p, org_id, start, per_lead, stamp))
    print(f"  {events:,} events in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    with db.engine.begin() as conn:
        # COPY went behind the ORM's back: count the leads as the migration would
        rebuild(conn)
        buckets = conn.scalar(select(func.count()).select_from(FunnelDaily))
    print(f"  funnel_daily rebuilt: {buckets:,} rows in {time.perf_counter() - began:.1f} s")
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('leads_id_seq', (SELECT max(id) FROM leads))")
    analyze()


def analyze() -> None:
    # VACUUM also sets the visibility map, without which PostgreSQL cannot scan index-only
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")


def put_agents_in_teams(org_id: int, agents: Sequence[int], teams: int = 10) -> None:
    with db.engine.begin() as conn:
        for t in range(teams):
            team_id = conn.execute(
                Team.__table__.insert().values(org_id=org_id, name=f"第{t + 1}组", created_at=now())
            ).inserted_primary_key[0]
            members = [a for n, a in enumerate(agents) if n % teams == t]
            conn.execute(update(User).where(User.id.in_(members)).values(team_id=team_id))


def now() -> datetime:
    return datetime.now(UTC)


def login(client: FlaskClient, username: str) -> dict[str, str]:
    body = {"username": username, "password": common.PASSWORD}
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def actor(user_id: int, org_id: int, role: str) -> Actor:
    return Actor(user_id, org_id, role, None, permissions_for(role, "hq"))


def cases(client: FlaskClient, ids: dict[str, int], period: Period) -> dict[str, Callable]:
    def service(who: str, group_by: str = "source", days: int = DAYS) -> Callable:
        asked = Period(period.end - timedelta(days=days), period.end)
        person = actor(ids[who], ids["org"], who)

        def call() -> None:
            with db.unit_of_work(person) as session:
                funnel_report(session, person, asked, group_by)

        return call

    def http(
        who: str, name: str = "funnel", days: int = DAYS, dates: bool = False, **params: str
    ) -> Callable:
        """`dates`: a dashboard's range of whole days in the org's zone, up to today."""
        headers = login(client, f"bench_{who}")
        end = period.end.astimezone(SHANGHAI).date() + timedelta(days=1) if dates else period.end
        params |= {"from": (end - timedelta(days=days)).isoformat(), "to": end.isoformat()}

        def call() -> None:
            response = client.get(f"/api/v1/reports/{name}", query_string=params, headers=headers)
            assert response.status_code == 200, response.json

        return call

    return {
        "funnel/source  service  HQ manager (all orgs)": service("manager"),
        "funnel/source  HTTP     HQ manager (all orgs)": http("manager", group_by="source"),
        "funnel/source  service  team lead (one org)": service("team_lead"),
        "funnel/source  HTTP     team lead (one org)": http("team_lead", group_by="source"),
        "funnel/source  HTTP     team lead, 7 days": http("team_lead", days=7, group_by="source"),
        "funnel/source  HTTP     team lead, 30 dates": http(
            "team_lead", dates=True, group_by="source"
        ),
        "funnel/agent   HTTP     HQ manager": http("manager", group_by="agent"),
        "funnel/team    HTTP     HQ manager": http("manager", group_by="team"),
        "agents         HTTP     HQ manager": http("manager", "agents"),
        "channels       HTTP     HQ manager": http("manager", "channels"),
    }


def measure(calls: dict[str, Callable], runs: int, warmup: int) -> list[list[object]]:
    rows = []
    for name, call in calls.items():
        samples = []
        for n in range(warmup + runs):
            began = time.perf_counter()
            call()
            if n >= warmup:
                samples.append((time.perf_counter() - began) * 1000)
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        rows.append([name, cuts[49], cuts[98], min(samples)])
    return rows


def explain(call: Callable, title: str) -> None:
    """Print the plan of the cohort query `call` runs (EXPLAIN ANALYZE on PostgreSQL)."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM leads" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    statement, parameters = seen[0]
    with db.engine.connect() as conn:
        is_pg = conn.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if is_pg else "EXPLAIN QUERY PLAN "
        print(f"\n{title}:\n{statement}\n-- parameters: {parameters}")
        for line in conn.exec_driver_sql(prefix + statement, parameters):
            print("  " + (line[0] if is_pg else str(line[-1])))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--events-per-lead", type=int, default=5)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--what-if", action="store_true", help="then add a covering index and measure again"
    )
    args = parser.parse_args(argv)
    with common.scratch_database(args.database) as url:
        app = common.make_app(url)
        org_id, manager_id, team_lead_id, agents = common.seed_org(agents=200)
        put_agents_in_teams(org_id, agents)
        end = now()
        period = Period(end - timedelta(days=DAYS), end)
        print(f"{args.database}: loading {args.rows:,} leads over {DAYS} days")
        load(args.rows, args.events_per_lead, org_id, agents, period.start)
        ids = {"org": org_id, "manager": manager_id, "team_lead": team_lead_id}
        calls = cases(app.test_client(), ids, period)
        rounds = ["as built", "with the covering index"] if args.what_if else ["as built"]
        results = []
        for label in rounds:
            if label != "as built":
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(COVERING_INDEX[conn.dialect.name])
                analyze()
            # the box may be shared: the load average says how far to trust p99
            busy = ", ".join(f"{n:.1f}" for n in os.getloadavg())
            print(f"\n{args.database}, {label}: {args.runs} runs per case, load average {busy}")
            table = measure(calls, args.runs, args.warmup)
            results += [[f"{row[0]}  [{label}]", *row[1:]] for row in table]
            print(common.table(["case", "p50 ms", "p99 ms", "min ms"], table))
            for key in (
                "funnel/source  service  HQ manager (all orgs)",
                "funnel/source  service  team lead (one org)",
                # the cohort scan funnel_daily cannot answer
                "funnel/agent   HTTP     HQ manager",
            ):
                explain(calls[key], f"{key}, {label}")
        goal = 200 if args.database == "postgresql" else 500
        print(f"\n{args.database}, {args.rows:,} leads, goal p99 < {goal} ms")
        print(common.table(["case", "p50 ms", "p99 ms", "min ms"], results))


if __name__ == "__main__":
    main()
