"""A real `python -m workers.worker` process for the job tests, and for those that kill one in
the middle of a job: its environment, starting it, the work horse it forked, and stopping it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from crm.compliance.crypto import PiiKeyring
from tests.services import REDIS_URL

ROOT = Path(__file__).resolve().parents[1]
# a Redis database of its own, so the worker never meets jobs of other tests or of a dev server
JOBS_DB = 14


def worker_environment(
    database_url: str, instance: Path, pii_keys: str | None = None
) -> dict[str, str]:
    """What a worker process is started with: this database, the job tests' Redis database."""
    return {
        **os.environ,
        "REDIS_URL": f"{REDIS_URL.rsplit('/', 1)[0]}/{JOBS_DB}",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PII_KEYS": pii_keys or PiiKeyring.generate_json(),
        "LOANLINE_INSTANCE": str(instance),
    }


def start_worker(env: dict[str, str], queue: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.worker", queue],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def children(pid: int) -> list[int]:
    """The processes RQ forked: the work horse running the job, and the scheduler (Linux)."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or zombie(pid)


def zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


def kill(worker: subprocess.Popen[str]) -> None:
    """SIGKILL, as the OOM killer or a power cut would; returns once the work horse, which dies
    with its worker (workers/worker.py), is gone too."""
    forked = children(worker.pid)
    worker.kill()
    worker.wait(timeout=10)
    wait_until(lambda: all(gone(pid) for pid in forked))


def stop(worker: subprocess.Popen[str] | None) -> str:
    """Stop a worker still running (warm shutdown) and return what it logged."""
    if worker is None:
        return ""
    if worker.poll() is None:
        worker.terminate()
    return worker.communicate(timeout=30)[0]


def wait_until(check, timeout=180.0):
    # generous: two worker start-ups on a loaded machine; nothing here is a timing claim
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value
