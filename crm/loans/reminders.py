"""Repayment reminders (还款提醒): ten and three days before an installment falls due, and the day
after it was missed, to the loan's agent (a console notice) and to the borrower (a message).

Each installment gets each kind once: the `loan_reminders_sent` row is inserted first, inside the
batch's transaction, and only the rows this run inserted are sent, so a re-run, a retry or two
overlapping runs never tell anyone twice.

When they go out. Dates are the org's local dates. Everything waits for the org's calling hours
(09:00–20:00 by default): a borrower is not texted at night, and the agent hears of it when there
is time to call. The job runs hourly, so a run outside the hours only leaves the day's reminders
to the first run inside them. A reminder that could not go out on its own day (the job was down,
a loan was disbursed inside the window) goes out late only while it still says something the next
one does not: a T-10 until T-4 (from T-3 the T-3 reminder says it sooner), a T-3 until the due
date itself, a missed payment for a week (after that it is collection's, crm/loans/collections.py,
not a text's). Past its window a reminder is skipped, never sent out of turn.

The sent rows are kept only while they can stop something: once its installment is past every
window (due dates never move), the daily clean-up deletes them (`prune_sent`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Row, Select, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crm.leads.models import Lead
from crm.loans.models import Installment, Loan, LoanReminderSent
from crm.loans.senders import Message, MessageSender
from crm.sql_functions import not_for_index
from crm.sweeps import (
    BATCH_SIZE,
    Handler,
    Push,
    Transaction,
    delete_in_batches,
    org_groups,
    send_notices,
)
from dialer.guards import local_time, parse_hours
from dialer.models import DncEntry

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str
    # days before the due date (negative: after it) from which the reminder may go out, and
    # until which a late one still may
    first: int
    last: int
    notice: str  # to the agent, about {n} borrowers
    text: str  # to the borrower

    def due_dates(self, today: date) -> tuple[date, date]:
        return today + timedelta(days=self.last), today + timedelta(days=self.first)


REMINDERS = (
    Reminder(
        "due_in_10",
        10,
        4,
        "{n} 位借款人的还款日在 10 天内，请提醒按时还款",
        "【还款提醒】{name}您好，您的借款第{n}期应还{amount}元，还款日为{due}，请按时还款。",
    ),
    Reminder(
        "due_in_3",
        3,
        0,
        "{n} 位借款人的还款日在 3 天内，请确认其已备好还款",
        "【还款提醒】{name}您好，您的借款第{n}期应还{amount}元将于{due}到期，"
        "请确保还款账户余额充足。",
    ),
    Reminder(
        "missed",
        -1,
        -7,
        "{n} 位借款人已错过还款日未还款，请尽快联系",
        "【逾期提醒】{name}您好，您的借款第{n}期应还{amount}元已于{due}到期未还，"
        "请尽快还款，逾期可能产生罚息并影响个人征信。",
    ),
)
CHANNEL = "sms"
# An installment due this many days before the UTC date is out of every reminder's window for
# good, in any org: the latest a reminder goes out is a week after the due date (the missed
# one's `last`), and an org's local date is at most a day behind UTC's; one more day spare.
PRUNE_AFTER_DAYS = -min(r.last for r in REMINDERS) + 2
# a delete of a few thousand rows by primary key is short, and the first run has a year's
PRUNE_BATCH = 5000


def send_loan_reminders(
    transaction: Transaction,
    now: datetime,
    push: Push,
    sender: MessageSender,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Send every reminder due now in the orgs whose calling hours it is."""
    counts: Counter[str] = Counter()
    hours = org_groups(
        transaction, lambda s: (s.timezone, s.calling_hours_start, s.calling_hours_end)
    )
    for (zone, start, end), org_ids in hours.items():
        local_now = local_time(now, zone)
        opens, closes = parse_hours(start, end)
        if not opens <= local_now.time() < closes:
            counts["orgs_outside_hours"] += len(org_ids)
            continue
        for reminder in REMINDERS:
            due = due_installments(reminder, org_ids, local_now.date())
            handle = partial(_send_batch, reminder=reminder, push=push, sender=sender, now=now)
            counts += _until_done(transaction, due, batch_size, handle)
    keys = ("reminded", "messages", "skipped_dnc", "orgs_outside_hours")
    return {key: counts[key] for key in keys}


def due_installments(reminder: Reminder, org_ids: list[int], today: date) -> Select:
    """Unpaid installments of `org_ids` inside the reminder's window not yet reminded, with what
    the notice and the message need. Any org's DNC entry counts, as when dialling."""
    sent = exists().where(
        LoanReminderSent.installment_id == Installment.id, LoanReminderSent.kind == reminder.kind
    )
    owed = (
        Installment.principal
        + Installment.interest
        + Installment.fee
        - Installment.paid_principal
        - Installment.paid_interest
        - Installment.paid_fee
    )
    return (
        select(
            Installment.id,
            Installment.org_id,
            Installment.loan_id,
            Installment.n,
            Installment.due_date,
            owed.label("owed"),
            Loan.lead_id,
            func.coalesce(Lead.owner_id, Loan.agent_id).label("agent_id"),
            Lead.name_masked,
            exists().where(DncEntry.phone_bidx == Lead.phone_bidx).label("on_dnc"),
        )
        .join(Loan, Loan.id == Installment.loan_id)
        .join(Lead, Lead.id == Loan.lead_id)
        .where(
            Installment.due_date.between(*reminder.due_dates(today)),
            Installment.status != "paid",
            Loan.status != "cancelled",  # a reversed loan owes nothing
            # SQLite would otherwise read every installment of the orgs by ix_installments_org_id
            not_for_index(Installment.org_id).in_(org_ids),
            ~sent,
        )
    )


def _until_done(
    transaction: Transaction, due: Select, batch_size: int, handle: Handler
) -> Counter[str]:
    """Run `handle` over what `due` selects, a committed transaction per batch. The anti-join in
    `due` is the cursor: a batch writes the sent row of every installment it read, so the next
    read starts after it, and the read stays on ix_installments_due_unpaid where paging by id
    would lead PostgreSQL down the primary key. A batch that claimed nothing (another run sent
    them all) ends the run: that run is covering the rest."""
    done: Counter[str] = Counter()
    while True:
        with transaction() as session:
            rows = session.execute(due.limit(batch_size)).all()
            batch = handle(session, rows) if rows else Counter()
        done += batch
        if len(rows) < batch_size or not batch["reminded"]:
            return done


def _send_batch(
    session: Session,
    rows: Sequence[Row[Any]],
    *,
    reminder: Reminder,
    push: Push,
    sender: MessageSender,
    now: datetime,
) -> Counter[str]:
    mine = _claim(session, rows, reminder.kind, now)
    counts: Counter[str] = Counter(reminded=len(mine))
    notices: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    for row in rows:
        if row.id not in mine:
            continue
        if row.agent_id is not None:
            told = notices[row.org_id, row.agent_id]
            if row.lead_id not in told:  # a borrower with two loans is one borrower
                told.append(row.lead_id)
        if row.on_dnc:
            # the agent still hears of it; the borrower asked not to be contacted
            counts["skipped_dnc"] += 1
            continue
        sender.send(session, _message(reminder, row))
        counts["messages"] += 1
    send_notices(session, notices, push, f"loan_{reminder.kind}", reminder.notice, now)
    return counts


def _message(reminder: Reminder, row: Row[Any]) -> Message:
    """The borrower's text: the masked name, the installment, what is owed on it, its date."""
    body = reminder.text.format(
        name=row.name_masked or "客户",
        n=row.n,
        amount=Decimal(str(row.owed)).quantize(CENT),  # SQLite computes `owed` as a float
        due=f"{row.due_date.year}年{row.due_date.month}月{row.due_date.day}日",
    )
    return Message(row.org_id, row.lead_id, row.loan_id, CHANNEL, reminder.kind, body)


def _claim(session: Session, rows: Sequence[Row[Any]], kind: str, now: datetime) -> set[int]:
    """Insert the sent rows first; the installments whose row this statement inserted are this
    run's to send. A concurrent run's row makes ours a no-op (on PostgreSQL the insert waits
    for that run to commit or roll back), so exactly one of them sends."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = [
        {"org_id": row.org_id, "installment_id": row.id, "kind": kind, "sent_at": now}
        for row in rows
    ]
    stmt = (
        insert(LoanReminderSent.__table__)
        .values(values)
        .on_conflict_do_nothing(index_elements=["installment_id", "kind"])
        .returning(LoanReminderSent.__table__.c.installment_id)
    )
    return set(session.scalars(stmt))


def prune_sent(
    transaction: Transaction, now: datetime, batch_size: int = PRUNE_BATCH
) -> dict[str, int]:
    """Delete the sent rows of installments no reminder can reach any more, paid or not: the
    sweep would never select them again, so the row has nothing left to stop. A batch per
    committed transaction; a re-run finds what is left."""
    cut = now.astimezone(UTC).date() - timedelta(days=PRUNE_AFTER_DAYS)
    past = (
        select(LoanReminderSent.id)
        .join(Installment, Installment.id == LoanReminderSent.installment_id)
        .where(Installment.due_date < cut)
    )
    return {"reminders_pruned": delete_in_batches(transaction, LoanReminderSent, past, batch_size)}
