"""Shared benchmark plumbing: throw-away databases, the app, an org with its people, tables."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import Connection, create_engine, text

from crm import create_app
from crm.auth.actor import SYSTEM
from crm.compliance.crypto import PiiKeyring
from crm.extensions import db, runtime
from crm.migrate import upgrade_to_head
from crm.orgs.models import Org, User
from crm.orgs.schemas import OrgSettings

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
PASSWORD = "bench-pass-2026"


def scratch_path(name: str) -> Path:
    """`name` in this run's private scratch folder (mode 0700, not the shared /tmp where other
    users could read or plant files), removed when the process exits."""
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="loanline_bench_"))
        atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    return _scratch / name


_scratch: Path | None = None


@contextmanager
def scratch_database(kind: str, pg_url: str = PG_URL) -> Iterator[str]:
    """A fresh, migrated SQLite file in the scratch folder or PostgreSQL schema; removed
    afterwards."""
    tag = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    if kind == "sqlite":
        path = scratch_path(f"loanline_{tag}.db")
        try:
            upgrade_to_head(f"sqlite:///{path}")
            yield f"sqlite:///{path}"
        finally:
            _dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{tag}"'))
    admin.dispose()  # no idle session of ours meanwhile: benches count the server's sessions
    sep = "&" if "?" in pg_url else "?"
    try:
        url = f"{pg_url}{sep}options=-csearch_path%3D{tag}"
        upgrade_to_head(url)
        yield url
    finally:
        _dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{tag}" CASCADE'))
        admin.dispose()


def _dispose() -> None:
    if db.engine is not None:
        db.engine.dispose()


def make_app(database_url: str) -> Flask:
    """The real app factory; secrets and instance folder given, so nothing lands in the repo."""
    instance = scratch_path(f"instance_{secrets.token_hex(3)}")
    instance.mkdir()
    return create_app(
        {
            "database_url": database_url,
            "redis_url": None,
            "secret_key": secrets.token_urlsafe(48),
            "pii_keys": PiiKeyring.generate_json(),
            "instance_path": instance,
            "access_token_minutes": 24 * 60,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            # no embedded scheduler thread: its recycle/escalation sweeps would change the data
            # under measurement and compete for the two cores
            "testing": True,
        }
    )


def seed_org(agents: int = 0, kind: str = "hq") -> tuple[int, int, int, list[int]]:
    """An org with a manager, a team lead and `agents` agents: (org, manager, lead, agents)."""
    password_hash = runtime.auth.passwords.hash(PASSWORD)
    with db.unit_of_work(SYSTEM) as session:
        org = Org(name="bench-org", kind=kind, cities=["北京", "上海"])
        org.settings = OrgSettings().model_dump()
        session.add(org)
        session.flush()
        roles = [("bench_manager", "manager"), ("bench_team_lead", "team_lead")]
        roles += [(f"bench_agent{i:03d}", "agent") for i in range(agents)]
        users = [
            User(
                username=name,
                display_name=name,
                role=role,
                org_id=org.id,
                password_hash=password_hash,
            )
            for name, role in roles
        ]
        session.add_all(users)
        session.flush()
        return org.id, users[0].id, users[1].id, [u.id for u in users[2:]]


def checkpoint() -> None:
    """Start a timed phase with the WAL flushed, so an earlier phase's writes are not billed."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.exec_driver_sql("CHECKPOINT")


def vacuum(*tables: str) -> None:
    """VACUUM ANALYZE the tables on PostgreSQL (nothing on SQLite): the state autovacuum keeps
    them in between two nightly runs, instead of the dead rows and unset hint bits a bulk load
    or a full rewrite leaves for the next reader to clean up."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")


def server_pid(conn: Connection) -> int | None:
    """The PostgreSQL backend serving `conn`; None on SQLite, which runs inside this process."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def cpu_seconds(server: int | None) -> float:
    """CPU seconds used so far by this process plus the database backend `server` (same host).
    Unlike wall time, barely moved by the other work sharing the two cores."""
    used = time.process_time()
    if server is not None:
        used += process_cpu_seconds(server)
    return used


def process_cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """User + system CPU seconds of a process on this host (with `reaped_children`, also of its
    children that have ended)."""
    return _name_and_cpu(Path(f"/proc/{pid}/stat"), reaped_children)[1]


def backends_cpu_seconds(database_url: str, application_name: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend (same host) of the connections named
    `application_name`: a workload's own share of the database, without the WAL writer's, the
    checkpointer's, autovacuum's or other sessions' work (the machine's other users included)."""
    with _own_connection(database_url) as conn:  # not named like the workload
        pids = conn.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": application_name},
        ).all()
    used = {}
    for pid in pids:
        try:
            used[pid] = process_cpu_seconds(pid)
        except OSError:  # the backend ended meanwhile
            continue
    return used


def postgresql_cpu_seconds(database_url: str) -> float:
    """CPU seconds used so far by the whole PostgreSQL server (same host): the postmaster, its
    live processes (backends, WAL writer, checkpointer, autovacuum) and the backends that have
    ended, which the postmaster reaped: a pooled connection and a job's short one alike. Other
    clients of the server count too (see other_clients)."""
    with _own_connection(database_url) as conn:
        backend = conn.scalar(text("SELECT pg_backend_pid()"))
        # /proc/<pid>/stat field 4 is the parent's pid: every backend's is the postmaster
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rpartition(")")[2].split()[1])
    total = process_cpu_seconds(postmaster, reaped_children=True)
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        try:
            total += process_cpu_seconds(int(child))
        except OSError:  # ended meanwhile: counted with the reaped ones next time
            continue
    return total


def other_clients(database_url: str, application_name: str) -> int:
    """Sessions on the server not named `application_name` (this one aside): their work is in
    postgresql_cpu_seconds too."""
    with _own_connection(database_url) as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                " AND application_name <> :name AND pid <> pg_backend_pid()"
            ),
            {"name": application_name},
        )


@contextmanager
def _own_connection(database_url: str) -> Iterator[Connection]:
    """A connection of its own, closed with its engine after: none left idle to be counted."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _name_and_cpu(stat: Path, reaped_children: bool = False) -> tuple[str, float]:
    # /proc/<pid>/stat: "pid (name) state ..."; utime, stime, cutime, cstime are fields 14-17
    name, _, rest = stat.read_text().partition(" (")[2].rpartition(")")
    ticks = rest.split()[11 : 15 if reaped_children else 13]
    return name, sum(map(int, ticks)) / os.sysconf("SC_CLK_TCK")


def machine_note() -> str:
    """Cores and load: other work on a 2-core machine shows up directly in the figures."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min)"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, first column left-aligned, the rest right-aligned."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
