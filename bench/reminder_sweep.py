"""Time the repayment-reminder sweep over a million installments.

    .venv/bin/python -m bench.reminder_sweep [--db postgres|sqlite] [--loans 41667] [--terms 24]
                                             [--orgs 100] [--seed 7]

Loads `--loans` loans of `--terms` monthly installments each (41,667 × 24 = 1,000,008 by default)
spread round-robin over `--orgs` orgs (every tenth in Asia/Urumqi, two hours behind Beijing, so
the sweep meets two groups of calling hours) with 5 agents each, disbursed uniformly over the
`--terms` months before the sweep day: due dates run from about two years back to two years
ahead, ~650 a day. Every installment due before the sweep day is paid, except in the 4 % of loans
that default from a random installment on (a fifth of those with interest paid on the first one
missed); 1 % of borrowers are on the DNC list; 10 % of leads have no owner (the loan's agent is
told). Every row (orgs, agents, lenders, products, leads, applications, loans, installments, DNC
entries) goes in by COPY (bench.funnel.write; executemany on SQLite), then VACUUM ANALYZE.

Then it runs `crm.loans.reminders.send_loan_reminders` as workers/jobs/loan_reminders.run does
(a RecordingSender; the push only counts), at 11:00 Beijing time (09:00 in Urumqi):
- `first run`, on the day before the sweep day, with nothing reminded yet (a first deployment):
  every window's backlog, T-10 reminders for seven days of due dates among them;
- `one day`, on the sweep day: what an ordinary day sends;
- `re-run`, an hour later: everything is sent, nothing goes out twice.
Per run: candidates (unpaid installments whose due date is in some window: what the index range
reads), reminders, borrower messages, DNC skips, console notices, pushes and seconds. Before the
`one day` run it prints the plan of one window's batch query (EXPLAIN ANALYZE on PostgreSQL),
which must read ix_installments_due_unpaid. Last, the loan-book report (crm/reports/loan_book.py)
over the same loans, by lender and by org, as HQ finance asks for it.
Goal: under 60 s a run.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench import common
from bench.funnel import analyze, stamper, write
from crm.auth.actor import SYSTEM, Actor
from crm.auth.permissions import permissions_for
from crm.extensions import db
from crm.loans.models import Installment
from crm.loans.reminders import REMINDERS, due_installments, send_loan_reminders
from crm.loans.senders import RecordingSender
from crm.notifications.models import Notification
from crm.orgs.schemas import OrgSettings
from crm.reports.loan_book import loan_book

SWEEP_DAY = date(2026, 12, 1)
BEIJING = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
MONTHLY_RATE = Decimal("0.008")
AGENTS_PER_ORG = 5
LEAD_COLUMNS = ("id", "org_id", "name_enc", "name_bidx", "name_masked", "phone_enc")
LEAD_COLUMNS += ("phone_bidx", "phone_masked", "pii_key_id", "is_mobile", "source")
LEAD_COLUMNS += ("qualifications", "stage", "reached_rank", "owner_id", "created_at", "updated_at")
APPLICATION_COLUMNS = ("id", "org_id", "lead_id", "product_id", "status", "amount", "term_months")
APPLICATION_COLUMNS += ("annual_rate", "service_fee", "repayment_method", "lender_fees")
APPLICATION_COLUMNS += ("apr", "effective_rate", "agent_id")
APPLICATION_COLUMNS += ("created_at", "updated_at")
LOAN_COLUMNS = ("id", "org_id", "application_id", "lead_id", "product_id", "lender_id")
LOAN_COLUMNS += ("agent_id", "amount", "term_months", "annual_rate", "repayment_method")
LOAN_COLUMNS += ("service_fee", "channel_fee", "apr", "effective_rate", "disbursed_at")
LOAN_COLUMNS += ("status", "created_at")
INSTALLMENT_COLUMNS = ("id", "org_id", "loan_id", "n", "due_date", "principal", "interest", "fee")
INSTALLMENT_COLUMNS += ("paid_principal", "paid_interest", "paid_fee", "status", "paid_at")
DNC_COLUMNS = ("org_id", "phone_bidx", "phone_masked", "reason", "source", "created_at")
ORG_COLUMNS = ("id", "name", "kind", "cities", "settings", "created_at")
USER_COLUMNS = ("id", "org_id", "username", "password_hash", "display_name", "role", "active")
USER_COLUMNS += ("created_at",)
LENDER_COLUMNS = ("id", "org_id", "name", "kind", "active", "created_at")
PRODUCT_COLUMNS = ("id", "org_id", "lender_id", "name", "min_amount", "max_amount")
PRODUCT_COLUMNS += ("min_term_months", "max_term_months", "apr_min", "apr_max")
PRODUCT_COLUMNS += ("repayment_method", "fees", "channel_fee_rate", "rules", "apr_worst", "active")
PRODUCT_COLUMNS += ("created_at", "updated_at")


class Desk:
    """Per org: its id, its agents, and the lender and product its loans are with."""

    def __init__(self, org_id: int, agents: list[int], lender_id: int, product_id: int) -> None:
        self.org_id, self.agents = org_id, agents
        self.lender_id, self.product_id = lender_id, product_id


class Borrower:
    """One loan's facts, drawn from its own seeded generator, so each table's rows can be made
    in a separate pass over the loans without holding a million rows in memory."""

    def __init__(self, i: int, desks: Sequence[Desk], terms: int, seed: int) -> None:
        rng = random.Random(seed * 1_000_003 + i)
        self.id = i + 1
        self.desk = desks[i % len(desks)]
        self.agent = rng.choice(self.desk.agents)
        self.owned = rng.random() < 0.9
        self.disbursed = SWEEP_DAY - timedelta(days=rng.randrange(1, terms * 30))
        self.amount = Decimal(rng.randrange(10, 200) * 1000)
        self.default_from = rng.randrange(1, terms + 1) if rng.random() < 0.04 else None
        self.part_paid = rng.random() < 0.2
        self.terms = terms

    @property
    def at(self) -> datetime:
        return datetime.combine(self.disbursed, datetime.min.time(), BEIJING).replace(hour=10)


def desks_of(orgs: int) -> list[Desk]:
    """Org n has id n + 1, as do its lender and product; its agents follow each other."""
    per = AGENTS_PER_ORG
    return [Desk(n + 1, [n * per + a + 1 for a in range(per)], n + 1, n + 1) for n in range(orgs)]


def org_rows(desks: Sequence[Desk], stamp: Callable) -> Iterator[tuple]:
    at = stamp(datetime(2024, 1, 1, tzinfo=UTC))
    for n, d in enumerate(desks):
        zone = "Asia/Urumqi" if n % 10 == 9 else "Asia/Shanghai"
        settings = json.dumps(OrgSettings(timezone=zone).model_dump(mode="json"))
        yield d.org_id, f"bench-org-{n}", "hq" if n == 0 else "partner", '["北京"]', settings, at


def user_rows(desks: Sequence[Desk], stamp: Callable) -> Iterator[tuple]:
    at = stamp(datetime(2024, 1, 1, tzinfo=UTC))
    for d in desks:
        for a in d.agents:
            yield a, d.org_id, f"bench_agent_{a}", "-", f"agent {a}", "agent", True, at


def lender_rows(desks: Sequence[Desk], stamp: Callable) -> Iterator[tuple]:
    at = stamp(datetime(2024, 1, 1, tzinfo=UTC))
    for d in desks:
        yield d.lender_id, d.org_id, f"资金方{d.org_id}", "bank", True, at


def product_rows(desks: Sequence[Desk], stamp: Callable) -> Iterator[tuple]:
    at = stamp(datetime(2024, 1, 1, tzinfo=UTC))
    amounts = (Decimal(1000), Decimal(500000), 1, 36, Decimal("0.08"), Decimal("0.12"))
    for d in desks:
        yield (
            *(d.product_id, d.org_id, d.lender_id, "工薪贷", *amounts, "equal_principal", "[]"),
            *(Decimal("0.02"), "{}", Decimal("0.12"), True, at, at),
        )


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def lead_rows(borrowers: Iterator[Borrower], stamp: Callable) -> Iterator[tuple]:
    for b in borrowers:
        at = stamp(b.at - timedelta(days=20))
        owner = b.agent if b.owned else None
        yield (
            b.id,
            b.desk.org_id,
            f"k1.{b.id:052d}",
            f"{b.id + 10**12:064x}",
            "张*",
            f"k1.{b.id:056d}",
            f"{b.id:064x}",
            f"138****{b.id % 10000:04d}",
            "k1",
            True,
            "官网表单",
            "{}",
            "disbursed",
            5,
            owner,
            at,
            at,
        )


RATE, APR, ZERO = Decimal("0.096"), Decimal("0.1003"), Decimal("0.00")


def application_rows(borrowers: Iterator[Borrower], stamp: Callable) -> Iterator[tuple]:
    for b in borrowers:
        at = stamp(b.at)
        yield (
            *(b.id, b.desk.org_id, b.id, b.desk.product_id, "disbursed", b.amount, b.terms),
            *(RATE, ZERO, "equal_principal", "[]", APR, APR, b.agent, at, at),
        )


def loan_rows(borrowers: Iterator[Borrower], stamp: Callable) -> Iterator[tuple]:
    for b in borrowers:
        d, at = b.desk, stamp(b.at)
        yield (
            *(b.id, d.org_id, b.id, b.id, d.product_id, d.lender_id, b.agent, b.amount, b.terms),
            *(RATE, "equal_principal", ZERO, (b.amount * Decimal("0.02")), APR, APR, at),
            "active",
            at,
        )


def installment_rows(borrowers: Iterator[Borrower], stamp: Callable) -> Iterator[tuple]:
    zero = ZERO
    for b in borrowers:
        share = (b.amount / b.terms).quantize(CENT)
        left = b.amount
        for n in range(1, b.terms + 1):
            principal = left if n == b.terms else share
            interest = (left * MONTHLY_RATE).quantize(CENT)
            left -= principal
            due = add_months(b.disbursed, n)
            owing = due >= SWEEP_DAY or (b.default_from is not None and n >= b.default_from)
            if not owing:
                paid_at = stamp(datetime.combine(due, datetime.min.time(), UTC))
                paid = (principal, interest, zero, "paid", paid_at)
            elif due < SWEEP_DAY and n == b.default_from and b.part_paid:
                paid = (zero, interest, zero, "partial", None)
            else:
                paid = (zero, zero, zero, "pending", None)
            row_id = (b.id - 1) * b.terms + n
            yield (row_id, b.desk.org_id, b.id, n, due, principal, interest, zero, *paid)


def dnc_rows(borrowers: Iterator[Borrower], stamp: Callable) -> Iterator[tuple]:
    for b in borrowers:
        if b.id % 100 == 0:
            masked = f"138****{b.id % 10000:04d}"
            yield b.desk.org_id, f"{b.id:064x}", masked, "借款人要求勿扰", "manual", stamp(b.at)


DESK_TABLES = (
    ("orgs", ORG_COLUMNS, org_rows),
    ("users", USER_COLUMNS, user_rows),
    ("lenders", LENDER_COLUMNS, lender_rows),
    ("products", PRODUCT_COLUMNS, product_rows),
)
LOAN_TABLES = (
    ("leads", LEAD_COLUMNS, lead_rows),
    ("applications", APPLICATION_COLUMNS, application_rows),
    ("loans", LOAN_COLUMNS, loan_rows),
    ("installments", INSTALLMENT_COLUMNS, installment_rows),
    ("dnc_entries", DNC_COLUMNS, dnc_rows),
)


def load(loans: int, terms: int, desks: Sequence[Desk], seed: int) -> None:
    stamp = stamper()
    sqlite = db.engine.dialect.name == "sqlite"
    tables = [(name, columns, make_rows(desks, stamp)) for name, columns, make_rows in DESK_TABLES]
    for name, columns, make_rows in LOAN_TABLES:
        borrowers = (Borrower(i, desks, terms, seed) for i in range(loans))
        tables.append((name, columns, make_rows(borrowers, stamp)))
    for name, columns, rows in tables:
        began = time.perf_counter()
        if sqlite:  # sqlite3 binds neither Decimal nor (from 3.12) date
            rows = (tuple(_sqlite_value(v) for v in row) for row in rows)
        written = write(name, columns, rows)
        print(f"  {written:,} {name} in {time.perf_counter() - began:.1f} s")
    if not sqlite:  # the rows came with their ids
        with db.engine.begin() as conn:
            for name, columns, _ in tables:
                if columns[0] != "id":
                    continue
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
    began = time.perf_counter()
    analyze()
    print(f"  analyzed in {time.perf_counter() - began:.1f} s")


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetimes are already text (stamper)
        return value.isoformat()
    return value


class CountingPush:
    def __init__(self) -> None:
        self.pushed = 0

    def __call__(self, event: str, data: dict[str, Any], room: str, namespace: str) -> None:
        self.pushed += 1


def window_bounds(day: date) -> tuple[date, date]:
    """The due dates some reminder's window covers on `day`."""
    return (
        day + timedelta(days=min(r.last for r in REMINDERS)),
        day + timedelta(days=max(r.first for r in REMINDERS)),
    )


def count(stmt: Any) -> int:
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        return session.scalar(stmt) or 0


def sweep(label: str, day: date, hour: int = 11) -> list[object]:
    now = datetime.combine(day, datetime.min.time(), BEIJING).replace(hour=hour)
    candidates = count(
        select(func.count())
        .select_from(Installment)
        .where(Installment.due_date.between(*window_bounds(day)), Installment.status != "paid")
    )
    notices = select(func.count()).select_from(Notification)
    before = count(notices)
    push = CountingPush()
    began = time.perf_counter()
    result = send_loan_reminders(lambda: db.unit_of_work(SYSTEM), now, push, RecordingSender())
    seconds = time.perf_counter() - began
    told = count(notices) - before
    counts = [result[k] for k in ("reminded", "messages", "skipped_dnc")]
    return [label, f"{now:%Y-%m-%d %H:%M}", candidates, *counts, told, push.pushed, seconds]


def explain(org_ids: list[int], day: date) -> None:
    """Print the plan of the T-3 window's batch query as the sweep sends it."""
    reminder = next(r for r in REMINDERS if r.kind == "due_in_3")
    stmt = due_installments(reminder, org_ids, day).limit(500)
    with db.engine.connect() as conn:
        compiled = stmt.compile(conn, compile_kwargs={"render_postcompile": True})
        params: Any = compiled.params
        if compiled.positional:
            params = tuple(_sqlite_value(params[name]) for name in compiled.positiontup)
        is_pg = conn.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if is_pg else "EXPLAIN QUERY PLAN "
        plan = [
            line[0] if is_pg else str(line[-1])
            for line in conn.exec_driver_sql(prefix + str(compiled), params)
        ]
    print(f"\nplan of the T-3 window's batch on {day} ({len(org_ids)} orgs):")
    print("\n".join("  " + line for line in plan))
    used = any("ix_installments_due_unpaid" in line for line in plan)
    print(f"reads ix_installments_due_unpaid: {'yes' if used else 'NO'}")


def time_loan_book(hq_org_id: int) -> list[list[object]]:
    """The loan-book report over the same loans, as HQ finance asks for it (every org)."""
    finance = Actor(None, hq_org_id, "finance", None, permissions_for("finance", "hq"))
    rows: list[list[object]] = []
    for group_by in ("lender", "org"):
        began = time.perf_counter()
        with db.unit_of_work(finance, readonly=True) as session:
            book = loan_book(session, finance, group_by, SWEEP_DAY)
        seconds = time.perf_counter() - began
        rows.append([f"loan book by {group_by}", len(book.groups), book.total.loans, seconds])
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--loans", type=int, default=41_667)
    parser.add_argument("--terms", type=int, default=24)
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    kind = "postgresql" if args.db == "postgres" else "sqlite"
    with common.scratch_database(kind) as url:
        common.make_app(url)
        print(common.machine_note())
        desks = desks_of(args.orgs)
        print(f"{kind}: loading {args.loans:,} loans × {args.terms} installments")
        load(args.loans, args.terms, desks, args.seed)
        rows = [sweep("first run", SWEEP_DAY - timedelta(days=1))]
        beijing = [d.org_id for n, d in enumerate(desks) if n % 10 != 9]
        explain(beijing, SWEEP_DAY)
        rows.append(sweep("one day", SWEEP_DAY))
        rows.append(sweep("re-run", SWEEP_DAY, hour=12))
        installments = count(select(func.count()).select_from(Installment))
        print(f"\n{kind}, {installments:,} installments, {args.orgs} orgs; goal < 60 s a run")
        header = ["run", "at (Beijing)", "candidates", "reminded", "messages"]
        header += ["dnc skipped", "notices", "pushes", "seconds"]
        print(common.table(header, rows))
        print(
            common.table(["report", "groups", "loans", "seconds"], time_loan_book(desks[0].org_id))
        )
        print(common.machine_note())


if __name__ == "__main__":
    main()
