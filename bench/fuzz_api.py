"""Fuzz the whole HTTP API for longer than the suite does (tests/fuzzing.py): every operation of
GET /api/openapi.json, each request from a user of a drawn role, fresh random examples each run.

    .venv/bin/python -m bench.fuzz_api [--db sqlite|postgres] [--examples 200]

Prints one row per operation that failed (5xx, an undocumented status or content type, a body
off its schema, an error outside the error shape) with the request to replay it, then a summary.
Exit status 1 when anything failed."""

from __future__ import annotations

import argparse
import sys
import time

from bench import common
from tests.factories import Factory
from tests.fuzzing import Fuzzer, users_of_every_role


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="sqlite")
    parser.add_argument("--examples", type=int, default=200, help="requests per operation")
    args = parser.parse_args()
    print(common.machine_note())
    with common.scratch_database(args.db) as url:
        app = common.make_app(url)
        headers, known = users_of_every_role(app.test_client(), Factory())
        started = time.monotonic()
        failures = Fuzzer(app, max_examples=args.examples, derandomize=False).run(headers, known)
        seconds = time.monotonic() - started
    for failure in failures:
        print(f"\n== {failure}")
    print(
        f"\n{args.examples} examples per operation on {args.db}: "
        f"{len(failures)} operations failed, {seconds:.0f} s"
    )
    print(common.machine_note())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
