"""Time the de-identified dataset export (the job's body) over a million leads in one org.

    .venv/bin/python -m bench.deidentified_export --rows 1000000 --database sqlite

Loads generated leads (names, phones, ID numbers, encrypted as the import stores them), then
runs `write_export` as the export job does, once per batch size: rows/s, and what each keyset
batch costs on top of the rows themselves. A read-only pass (the batches without writing the
CSV) splits the time into reading and de-identifying plus compressing.

Encrypting a million generated leads takes most of an hour on a busy 2-core machine, and the
export never decrypts anything, so `--copies N` generates rows/N leads and copies them N-1 times
in SQL with distinct blind indexes (distinct tokens): the export does the same work per row."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from uuid import uuid4

from sqlalchemy import func, insert, select

from bench import common
from bench.list_leads import load
from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.exports import service
from crm.exports.models import DatasetExport
from crm.extensions import db, runtime
from crm.leads.models import Lead
from crm.leads.schemas import LeadFilters

BATCH_SIZES = (500, 2_000, 5_000, 20_000)


def copy_leads(copies: int) -> None:
    """Append copies - 1 copies of every lead, each with its own phone and ID blind indexes."""
    columns = [c for c in Lead.__table__.columns if c.name != "id"]
    with db.engine.begin() as conn:
        last = conn.scalar(select(func.max(Lead.id)))
        for n in range(1, copies):
            # as long as a real index (64); "x" is no hex digit: a copy never meets an original
            values = [
                (func.substr(c, 1, 60) + f"x{n:03d}").label(c.name)
                if c.name in ("phone_bidx", "id_number_bidx")
                else c
                for c in columns
            ]
            conn.execute(
                insert(Lead.__table__).from_select(
                    [c.name for c in columns], select(*values).where(Lead.id <= last)
                )
            )


def run_export(manager_id: int, batch_size: int) -> tuple[float, dict, int]:
    """One export as the job runs it: (seconds, masking report, file bytes)."""
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager_id)
    start = time.perf_counter()
    with db.unit_of_work(actor) as session:
        export = DatasetExport(org_id=actor.org_id, job_id=uuid4().hex, filters={})
        session.add(export)
        session.flush()
        report = service.write_export(
            session, actor, runtime.vault, export.id, utcnow().date(), batch_size=batch_size
        )
        size = len(export.content or b"")
    return time.perf_counter() - start, report, size


def read_only(manager_id: int, batch_size: int) -> float:
    """The same keyset batches, read and dropped: the floor the export cannot go under."""
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager_id)
    start = time.perf_counter()
    with db.unit_of_work(actor, readonly=True) as session:
        batches = service._batches(session, actor, runtime.vault, LeadFilters(), batch_size)
        rows = sum(len(batch) for batch in batches)
    assert rows > 0, "the read-only pass read nothing"
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.deidentified_export")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--copies", type=int, default=1, help="see the module docstring")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    args = parser.parse_args(argv)
    print(f"machine: {common.machine_note()}")
    with common.scratch_database(args.database) as url:
        common.make_app(url)
        org_id, manager_id, _, agents = common.seed_org(agents=50)
        start = time.perf_counter()
        load(args.rows // args.copies, org_id, manager_id, agents, args.seed)
        copy_leads(args.copies)
        print(f"loaded {args.rows:,} leads in {time.perf_counter() - start:.0f} s")
        rows, fit = [], []
        for batch_size in args.batch_sizes:
            common.checkpoint()
            seconds, report, size = run_export(manager_id, batch_size)
            reading = read_only(manager_id, batch_size)
            batches = -(-report["rows"] // batch_size)
            fit.append((batches, seconds))
            rows.append(
                [f"{batch_size:,}", batches, seconds, reading, report["rows"] / seconds, size / 1e6]
            )
        header = ["batch", "batches", "export s", "read-only s", "rows/s", "MB gz"]
        print(f"\n{args.database}, {args.rows:,} leads, one org, no filter")
        print(common.table(header, rows))
        if len(fit) > 1:
            # seconds = fixed + per_batch * batches, least squares over the batch sizes run
            slope = statistics.linear_regression(*zip(*fit, strict=True)).slope
            print(f"per-batch overhead (fit over the batch sizes): {slope * 1000:.1f} ms")
        print(
            f"k-anonymity of (age band, gender, city): smallest group {report['smallest_group']},"
            f" {report['rows_in_groups_below_k']:,} rows in groups below k={report['k']}"
        )
        print(f"goal: 1M leads < 30 s; machine: {common.machine_note()}")


if __name__ == "__main__":
    main()
