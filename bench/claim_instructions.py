"""Instructions per claim-next, counted by valgrind's callgrind: a figure that does not move with
the machine's load, for telling two versions of the code apart (CPU timings on this shared
2-core machine move by a quarter from run to run; bench.claim_next gives the milliseconds).

Two paths, one agent each, over `--rows` leads; another agent claims first, so first
compilations and psycopg's first, unprepared runs are not counted:
- in-process: the Flask test client, as bench.claim_next's HTTP rows (the client's own work,
  building the request and reading the answer, counted with the app's);
- served: a production web process (bench/web_process.py), the claims sent over keep-alive HTTP
  from this process; only the gunicorn worker is counted.

Callgrind starts with counting off; `callgrind_control -i on/off` brackets the claims.

    .venv/bin/python -m bench.claim_instructions
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench import common, web_process
from bench.claim_next import agents_can_claim_all_day, load
from bench.dialer_consoles import with_children
from bench.list_leads import login
from crm.extensions import db
from tests.live_server import free_port

AGENT, WARMER = "bench_agent000", "bench_agent001"
WARM_CLAIMS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument(
        "--in-process-child", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.in_process_child:
        _claim_in_process(args.in_process_child[0], args.claims)
        return
    folder = common.scratch_path("callgrind")
    folder.mkdir(exist_ok=True)
    with common.scratch_database("postgresql") as url:
        common.make_app(url)
        org_id, manager_id, _, _ = common.seed_org(agents=4)
        agents_can_claim_all_day(org_id)
        load(args.rows, org_id, manager_id, seed=11)
        common.vacuum("leads")
        db.engine.dispose()
        print(f"{args.rows:,} leads; {common.machine_note()}")
        rows = [
            ["in-process (Flask test client)", _in_process(url, folder, args.claims)],
            ["served (gunicorn gevent worker)", _served(url, folder, args.claims, args.redis_url)],
        ]
    table = [[path, args.claims, count / args.claims / 1e6] for path, count in rows]
    print(common.table(["path", "claims", "M instructions per claim"], table))


def _in_process(url: str, folder: Path, claims: int) -> int:
    """This script again, under callgrind, claiming through the test client."""
    child = [sys.executable, "-m", "bench.claim_instructions", "--claims", str(claims)]
    process = subprocess.run(
        [*_callgrind(folder, "in_process"), *child, "--in-process-child", url, str(folder)],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return _instructions(folder, "in_process")


def _claim_in_process(url: str, claims: int) -> None:
    app = common.make_app(url)
    client = app.test_client()

    def claimer(username: str) -> Callable[[], None]:
        headers = login(client, username)

        def claim() -> None:
            answer = client.post("/api/v1/leads/claim-next", json={}, headers=headers)
            assert answer.status_code == 200, answer.json

        return claim

    _run(claimer(WARMER), claimer(AGENT), os.getpid(), claims)


def _served(url: str, folder: Path, claims: int, redis_url: str) -> int:
    command, env = web_process.command_and_env(redis_url)
    port = free_port()
    env |= {
        "PORT": str(port),
        "DATABASE_URL": url,
        "SECRET_KEY": common.PASSWORD * 3,
        "LOANLINE_INSTANCE": str(folder / "instance"),
    }
    base = f"http://127.0.0.1:{port}"
    with (folder / "served.log").open("w") as log:
        server = subprocess.Popen(
            [*_callgrind(folder, "served"), *command],
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(base, server)
        http = requests.Session()
        warm = web_process.claimer(http, base, WARMER)
        claim = web_process.claimer(http, base, AGENT)
        # gunicorn's arbiter forks one worker (deploy/gunicorn.conf.py): it serves every request
        [worker] = with_children(server.pid)[1:]
        _run(warm, claim, worker, claims)
        subprocess.run(["callgrind_control", "-d", str(worker)], check=True, capture_output=True)
    finally:
        server.terminate()
        server.wait(timeout=120)
    return _instructions(folder, "served")


def _run(warm: Callable[[], None], claim: Callable[[], None], pid: int, claims: int) -> None:
    for _ in range(WARM_CLAIMS):
        warm()
    _count(pid, "on")
    for _ in range(claims):
        claim()
    _count(pid, "off")


def _count(pid: int, switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(pid)], check=True, capture_output=True)


def _callgrind(folder: Path, name: str) -> list[str]:
    for old in folder.glob(f"{name}.*"):
        old.unlink()
    return [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--trace-children=yes",
        f"--callgrind-out-file={folder}/{name}.%p.out",
    ]


def _instructions(folder: Path, name: str) -> int:
    """Instructions counted, summed over every process and dump of the run (uncounted ones add
    0)."""
    total = 0
    for part in folder.glob(f"{name}.*.out*"):
        for line in part.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total


def _wait_until_up(base: str, server: subprocess.Popen, seconds: float = 600) -> None:
    # under valgrind the process takes a minute or more to import the app
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(f"{base}/livez", timeout=30).raise_for_status()
            return
        except requests.RequestException:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the web process did not start under callgrind") from None
            time.sleep(1)


if __name__ == "__main__":
    main()
