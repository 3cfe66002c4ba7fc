"""A PostgreSQL cluster and a Redis server of a test's own, on free ports in a temporary folder,
which the test may restart at will without disturbing anyone else's use of the shared ones; and
a live server with an RQ worker process beside it.

Built from Debian's binaries (`postgresql`, `redis-server`): under CI=true a missing binary fails
the test (tests/services.py), elsewhere it skips."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from crm.compliance.crypto import PiiKeyring
from tests.live_server import (
    SECRET_KEY,
    LiveServer,
    free_port,
    fresh_database,
    prepare_database,
    start_server,
    stop_server,
)
from tests.services import missing

# A test on databases of its own runs in the suite's SQLite pass only: the PostgreSQL pass
# (scripts/test, TEST_DATABASE_URL) would repeat it unchanged.
own_databases_only = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="uses databases of its own: already run in the SQLite pass",
)


ROOT = Path(__file__).resolve().parents[1]


def _as_postgres(*command: str) -> list[str]:
    """initdb refuses to run as root: root runs the cluster as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@dataclass
class PrivatePostgres:
    bindir: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"
        self._ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: every connection is cut, in-flight transactions roll back."""
        self._ctl("-m", "fast", "-w", "stop")


@contextmanager
def private_postgresql() -> Iterator[PrivatePostgres]:
    bindirs = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not bindirs or (os.geteuid() == 0 and shutil.which("runuser") is None):
        missing("PostgreSQL server binaries", FileNotFoundError("/usr/lib/postgresql/*/bin"))
    folder = Path(tempfile.mkdtemp(prefix="loanline-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = PrivatePostgres(Path(bindirs[-1]), folder / "data", free_port())
    try:
        subprocess.run(
            _as_postgres(
                str(cluster.bindir / "initdb"),
                "-D",
                str(cluster.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # append-only, as production runs it: queued jobs outlive a restart
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        client = Redis.from_url(self.url)
        while True:
            try:
                client.ping()
                break
            except Exception:  # not listening yet
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: the append-only file is flushed first
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        missing("redis-server", FileNotFoundError("redis-server"))
    folder = Path(tempfile.mkdtemp(prefix="loanline-redis-"))
    server = PrivateRedis(folder, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_database(url: str, timeout: float = 30) -> None:
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:  # still starting
                assert time.monotonic() < deadline, "PostgreSQL did not come back"
                time.sleep(0.1)
    finally:
        engine.dispose()


@contextmanager
def server_and_worker(
    folder: Path, queues: Sequence[str], **env: str
) -> Iterator[tuple[LiveServer, subprocess.Popen]]:
    """A live server on a fresh database with the demo data (tests/live_server.py) and an RQ
    worker process on `queues` beside it, both with `env` (REDIS_URL, ...)."""
    pii_keys = PiiKeyring.generate_json()
    env = {"PII_KEYS": pii_keys, **env}
    with fresh_database(folder) as url:
        prepare_database(url, pii_keys)
        server = start_server(env, url, folder)
        worker = subprocess.Popen(
            [sys.executable, "-m", "workers.worker", *queues],
            cwd=ROOT,
            env={
                **os.environ,
                **env,
                "DATABASE_URL": url,
                "SECRET_KEY": SECRET_KEY,
                "LOANLINE_INSTANCE": str(folder / "instance"),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield server, worker
        finally:
            stop_server(server)
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGCONT)  # in case a test left it stopped
                worker.terminate()
                worker.communicate(timeout=30)
