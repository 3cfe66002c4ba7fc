"""A gevent web process's database connections (crm/db_gevent.py): they answer a ready socket
without gevent's hub, and still wait cooperatively, so one slow query does not hold up the
other greenlets (requests) of the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import pg_schema

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

# run in a process of its own: gevent must patch before anything imports socket or threading
SCRIPT = """
from gevent import monkey
monkey.patch_all()
import json, sys, time
import gevent
from crm.db import make_engine

engine = make_engine(sys.argv[1], pool_size=4)

def slow_query():
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_sleep(0.5), 42").one()[1]

started = time.monotonic()
greenlets = [gevent.spawn(slow_query) for _ in range(4)]
gevent.joinall(greenlets, raise_error=True)
with engine.connect() as conn:
    kind = type(conn.connection.driver_connection).__name__
    rows = conn.exec_driver_sql("SELECT generate_series(1, 3000)").all()
print(json.dumps({
    "answers": [g.value for g in greenlets],
    "seconds": time.monotonic() - started,
    "connection": kind,
    "rows": len(rows),
}))
"""


def test_slow_queries_in_greenlets_run_side_by_side():
    with pg_schema() as url:
        process = subprocess.run(
            [sys.executable, "-c", SCRIPT, url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert process.returncode == 0, process.stderr[-3000:]
    outcome = json.loads(process.stdout.strip().splitlines()[-1])
    assert outcome["connection"] == "CooperativeConnection"
    assert outcome["answers"] == [42] * 4
    assert outcome["rows"] == 3000  # an answer bigger than one read of the socket
    # four half-second queries one after another would take two seconds
    assert outcome["seconds"] < 1.5, outcome
