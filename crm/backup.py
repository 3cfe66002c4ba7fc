"""The backup drill: a backup is known good only once it has been restored.

    DATABASE_URL=postgresql+psycopg://… PII_KEYS='…' .venv/bin/python -m crm.backup [--keep DIR]

Dumps the database with pg_dump (custom format, as the nightly backup in docs/deploy.md does),
restores the dump into a fresh database beside it, and checks the copy: every table has as many
rows as the original, and the personal data of a sample of leads decrypts with the keyring in
PII_KEYS (a dump without the keys that encrypted it restores rows nobody can read). Exits 1 if
anything differs; the fresh database is dropped either way, and the dump too unless --keep."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.engine import URL

from crm.compliance.crypto import PiiCipher, PiiDecryptError, PiiKeyring

SAMPLE = 200
ENCRYPTED = (
    ("name_enc", "lead.name"),
    ("phone_enc", "lead.phone"),
    ("id_number_enc", "lead.id_number"),
)


@dataclass
class DrillReport:
    dump_bytes: int
    counts: dict[str, tuple[int, int]]  # table -> (original, restored)
    decrypted: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def libpq(url: URL) -> str:
    """The URL pg_dump and pg_restore take (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def schema_of(url: URL) -> str | None:
    """The schema named by `options=-csearch_path=…` (the tests' throw-away schemas), if any."""
    options = url.query.get("options", "")
    return options.partition("search_path=")[2] or None


def dump(url: URL, path: Path) -> None:
    schema = schema_of(url)
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}"]
    subprocess.run([*command, *([f"--schema={schema}"] if schema else []), libpq(url)], check=True)


def restore(path: Path, url: URL) -> None:
    subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-d", libpq(url), path],
        check=True,
    )


def table_counts(url: URL) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return {t: conn.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in sorted(tables)}
    finally:
        engine.dispose()


def decrypt_sample(url: URL, cipher: PiiCipher, report: DrillReport) -> None:
    columns = ", ".join(column for column, _ in ENCRYPTED)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT id, {columns} FROM leads ORDER BY random() LIMIT {SAMPLE}")
            ).all()
    finally:
        engine.dispose()
    for lead_id, *tokens in rows:
        for token, (_, purpose) in zip(tokens, ENCRYPTED, strict=True):
            if token is None:  # no name or ID number given, or de-identified by retention
                continue
            try:
                cipher.decrypt(token, purpose)
                report.decrypted += 1
            except PiiDecryptError as err:
                report.problems.append(f"lead {lead_id}: {purpose} does not decrypt: {err}")


def drill(database_url: str, pii_keys: str, folder: Path) -> DrillReport:
    """Dump, restore into a fresh database, compare, drop the fresh database."""
    original = make_url(database_url)
    path = folder / f"{original.database}.dump"
    dump(original, path)
    fresh = original.set(database=f"{original.database}_drill_{os.getpid()}")
    admin = create_engine(original, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{fresh.database}"'))
        try:
            restore(path, fresh)
            before, after = table_counts(original), table_counts(fresh)
            report = DrillReport(
                path.stat().st_size,
                {t: (n, after.get(t, -1)) for t, n in before.items()},
            )
            report.problems += [
                f"{t}: {n} rows, {m} restored" for t, (n, m) in report.counts.items() if n != m
            ]
            decrypt_sample(fresh, PiiCipher(PiiKeyring.from_json(pii_keys)), report)
            return report
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{fresh.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm.backup", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--keep", type=Path, help="keep the dump in this folder")
    args = parser.parse_args(argv)
    url, keys = os.environ.get("DATABASE_URL", ""), os.environ.get("PII_KEYS", "")
    if not url.startswith("postgresql") or not keys:
        sys.exit("crm.backup: set DATABASE_URL (PostgreSQL) and PII_KEYS as the app has them")
    with tempfile.TemporaryDirectory(prefix="loanline_drill_") as scratch:
        folder = args.keep or Path(scratch)
        report = drill(url, keys, folder)
    for table, (n, m) in report.counts.items():
        print(f"{table:32} {n:>12,} {m:>12,}")
    print(f"dump {report.dump_bytes:,} bytes; {report.decrypted} encrypted values decrypted")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print("drill passed" if report.ok else "drill FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
