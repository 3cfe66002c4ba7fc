"""Time the lead-sheet import (run_import as the job runs it) against a bare executemany insert."""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import exists, insert, inspect, select
from sqlalchemy.sql.dml import Insert

from bench import common
from bench.generate import write_sheet
from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.leads import importer
from crm.leads.models import Lead, Upload
from crm.leads.phone import _range_facts

BARE_BATCH = 2_000
# run_import's steps, timed one by one (importer function -> phase); its INSERT statements are
# timed per table (leads, and whatever else the import writes along with them)
PHASES = {
    "read_sheet": "read sheet",
    "_prepare_batch": "prepare (validate+encrypt)",
    "_drop_stored": "dedupe lookups",
}


def store(org_id: int, manager_id: int, filename: str, content: bytes) -> tuple[int, str]:
    """The upload as the API stores it; a sheet over the API's size limit is stored directly."""
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager_id)
    note = "store_upload"
    try:
        with db.unit_of_work(actor) as session:
            return importer.store_upload(session, actor, runtime.vault, filename, content).id, note
    except DomainError as err:
        if err.code != "file_too_large":
            raise
        note = f"{err.code}: {len(content) / 2**20:.0f} MB > {err.details['max_bytes'] // 2**20}"
    with db.unit_of_work(actor) as session:
        upload = Upload(org_id=org_id, filename=filename, content=content, uploaded_by=manager_id)
        session.add(upload)
        session.flush()
        return upload.id, note + " MB; Upload row written directly"


def run_job(upload_id: int, user_id: int, spent: dict[str, float]) -> tuple[dict[str, Any], float]:
    """workers/jobs/import_leads.run, with the phases of run_import timed into `spent`; returns
    its result and the CPU seconds it cost (this process and the database backend)."""
    originals = {name: getattr(importer, name) for name in PHASES}

    def timed(label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        return wrapper

    for name, func in originals.items():
        setattr(importer, name, timed(PHASES[name], func))
    try:
        with db.unit_of_work(SYSTEM) as session:
            actor = actor_for_user(session, user_id)
        with db.unit_of_work(actor) as session:
            server = common.server_pid(session.connection())
            cpu_from = common.cpu_seconds(server)
            execute = session.execute

            def execute_timed(stmt: Any, *args: Any, **kwargs: Any) -> Any:
                if not isinstance(stmt, Insert):
                    return execute(stmt, *args, **kwargs)
                return timed(f"INSERT {stmt.table.name}", execute)(stmt, *args, **kwargs)

            session.execute = execute_timed  # type: ignore[method-assign]
            result = importer.run_import(
                session, actor, runtime.vault, upload_id, importer.ImportOptions(), lambda _: None
            )
            commit_from = time.perf_counter()
        spent["commit"] += time.perf_counter() - commit_from
        return result, common.cpu_seconds(server) - cpu_from
    finally:
        for name, func in originals.items():
            setattr(importer, name, func)


@contextmanager
def recommended_changes(org_id: int) -> Iterator[None]:
    """What-if: no duplicate lookups when the org had no leads as the import started."""
    with db.unit_of_work(SYSTEM) as session:
        empty = not session.scalar(select(exists().where(Lead.org_id == org_id)))
    drop_stored = importer._drop_stored

    def drop_stored_unless_empty(session: Any, org: int, prepared: Any, tally: Any) -> Any:
        if empty:
            return [columns for _, columns in prepared]
        return drop_stored(session, org, prepared, tally)

    importer._drop_stored = drop_stored_unless_empty
    try:
        yield
    finally:
        importer._drop_stored = drop_stored


def timed_import(
    kind: str,
    label: str,
    csv_path: Path,
    org_id: int,
    manager_id: int,
    profiler: cProfile.Profile | None = None,
) -> tuple[dict[str, Any], float, float]:
    """Store the sheet, run the job on it; prints where the time went. (result, wall s, cpu s)"""
    content = csv_path.read_bytes()
    upload_id, note = store(org_id, manager_id, csv_path.name, content)
    print(f"[{kind}] {label}: upload {len(content):,} bytes via {note}")
    del content
    common.checkpoint()
    _range_facts.cache_clear()  # RQ forks a fresh work-horse per job: no warm cache
    gc.collect()
    spent: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    result, cpu = run_job(upload_id, manager_id, spent)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - start
    cache = _range_facts.cache_info()
    print(
        f"[{kind}] created {result['created']:,}, duplicates {result['duplicates']:,}, "
        f"invalid {result['invalid_total']:,}; phone-range cache {cache.hits:,} hits, "
        f"{cache.misses:,} misses"
    )
    inserts = sorted(phase for phase in spent if phase.startswith("INSERT "))
    phases = [(phase, spent[phase]) for phase in (*PHASES.values(), *inserts, "commit")]
    phases.append(("other (e.g. scoring)", wall - sum(seconds for _, seconds in phases)))
    rows = [[phase, seconds, 100 * seconds / wall] for phase, seconds in phases]
    print(common.table([f"{kind}: {label}", "seconds", "share %"], rows))
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s (this process + database backend)\n")
    return result, wall, cpu


def prepare_rows(content: bytes, org_id: int, manager_id: int) -> list[dict[str, Any]]:
    """The column dicts the import inserts, prepared again outside any timed section."""
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager_id)
    sheet = importer.read_sheet(content, "leads.csv", None, max_rows=importer.MAX_ROWS)
    tally, seen, rows, now = importer.ImportTally(), {}, [], utcnow()
    for batch in importer._batches(sheet.rows):
        prepared = importer._prepare_batch(
            runtime.vault, batch, org_id, actor, importer.ImportOptions(), now, tally, seen
        )
        rows.extend(columns for _, columns in prepared)
    return rows


def truncate() -> None:
    with db.engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        conn.exec_driver_sql("DELETE FROM leads" if sqlite else "TRUNCATE leads CASCADE")
    if sqlite:  # give the next phase a compact file, as the first import had
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM")  # autocommit: pysqlite isolation_level None
        finally:
            raw.close()


def bare_insert(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """Wall and CPU seconds for a plain Core executemany of `rows` into the emptied table, one
    transaction."""
    truncate()
    common.checkpoint()
    gc.collect()
    start = time.perf_counter()
    with db.engine.begin() as conn:
        server = common.server_pid(conn)
        cpu_from = common.cpu_seconds(server)
        for i in range(0, len(rows), BARE_BATCH):
            conn.execute(insert(Lead.__table__), rows[i : i + BARE_BATCH])
    return time.perf_counter() - start, common.cpu_seconds(server) - cpu_from


def schema_note() -> str:
    with db.engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    found = inspect(db.engine)
    indexes = len(found.get_indexes("leads")) + len(found.get_unique_constraints("leads"))
    return f"schema at revision {revision}, leads has {indexes} indexes besides its primary key"


def bench(kind: str, csv_path: Path, profile: bool, what_if: bool) -> list[list[object]]:
    with common.scratch_database(kind) as url:
        common.make_app(url)
        print(f"[{kind}] {schema_note()}")
        org_id, manager_id, _, _ = common.seed_org()
        profiler = cProfile.Profile() if profile else None
        result, wall, cpu = timed_import(kind, "import", csv_path, org_id, manager_id, profiler)
        if profiler:
            _print_profile(profiler, kind)
            return []
        rows = prepare_rows(csv_path.read_bytes(), org_id, manager_id)
        assert len(rows) == result["created"], (len(rows), result["created"])
        inserted, (bare, bare_cpu) = len(rows), bare_insert(rows)
        del rows
        gc.collect()
        print(
            f"[{kind}] bare executemany: {inserted:,} rows in {bare:.1f} s, CPU {bare_cpu:.1f} s\n"
        )
        runs = [("as built", result, wall, cpu)]
        if what_if:
            truncate()
            with recommended_changes(org_id):
                runs.append(
                    ("what-if", *timed_import(kind, "what-if", csv_path, org_id, manager_id))
                )
    table = []
    for label, result, wall, cpu in runs:
        # rates of inserted rows on both sides: the import also reads the rows it rejects
        # (invalid, duplicates), which the bare insert never sees, so rows in the file / import
        # seconds would flatter the import by the rejected share
        rows_in_file = result["rows"]
        by_wall = _ratio(inserted / wall, inserted / bare)
        by_cpu = _ratio(inserted / cpu, inserted / bare_cpu)
        table.append([kind, label, rows_in_file, inserted, wall, inserted / wall, bare])
        table[-1] += [inserted / bare, by_wall, cpu, bare_cpu, by_cpu]
    return table


def _ratio(import_rate: float, bare_rate: float) -> str:
    return f"{100 * import_rate / bare_rate:.0f}%"


def _print_profile(profiler: cProfile.Profile, kind: str) -> None:
    path = Path(__file__).parent / "out" / f"loanline_import_{kind}.prof"  # kept (git-ignored)
    path.parent.mkdir(exist_ok=True)
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler).sort_stats("tottime")
    print(f"\n[{kind}] cProfile (saved to {path}; times inflated by profiling), by own time:")
    stats.print_stats(25)
    stats.sort_stats("cumulative").print_stats(r"crm/|sqlalchemy/orm/bulk|psycopg|sqlite", 20)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--csv", type=Path, help="an existing sheet (default: generate one)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the import instead")
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="also run the import with the recommended changes (Core insert, no lookups in an "
        "empty org)",
    )
    args = parser.parse_args(argv)
    csv_path = args.csv or common.scratch_path(f"loanline_bench_{args.rows}.csv")
    if args.csv is None:
        start = time.perf_counter()
        size = write_sheet(csv_path, args.rows, args.seed)
        print(f"generated {csv_path} ({size:,} bytes) in {time.perf_counter() - start:.1f} s")
    print(f"machine: {common.machine_note()}")
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results: list[list[object]] = []
    try:
        for kind in kinds:
            results += bench(kind, csv_path, args.profile, args.what_if)
    finally:
        if args.csv is None:
            csv_path.unlink(missing_ok=True)
    if results:
        header = ["database", "pipeline", "rows in file", "inserted", "import s"]
        header += ["import inserted rows/s"]
        header += ["bare s", "bare rows/s", "import/bare", "import CPU s", "bare CPU s"]
        header += ["import/bare by CPU"]
        print(common.table(header, results))
        print("goal: import/bare >= 50%; CPU: this process + the database backend (PostgreSQL)")
        print(f"machine at the end: {common.machine_note()}")


if __name__ == "__main__":
    main()
