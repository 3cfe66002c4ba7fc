"""Collection records (催收记录): what was done about an overdue loan, at which level.

The level follows the days past due of the loan's oldest unpaid installment (账龄, the buckets of
crm/loans/book.py), and says who handles the loan at that age:

| level | bucket | days past due | handled by                                       |
|-------|--------|---------------|--------------------------------------------------|
| 1     | M1     | 1–30          | the agent: reminder calls and messages           |
| 2     | M2     | 31–60         | the team lead                                    |
| 3     | M3     | 61–90         | the manager                                      |
| 4     | M3+    | over 90       | legal, or an outsourced collection agency        |

A record is written on the loan and as a "collection" event on the lead's timeline, and counts as
a follow-up of the lead (its `last_followup_at`, which recycling and retention read). Calls made
for collection go through the dialer like any call, under the same calling hours, DNC list and
daily cap (dialer/guards.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError
from crm.leads.models import Lead
from crm.leads.service import add_event
from crm.loans import book
from crm.loans.models import CollectionRecord, Installment
from crm.pools.ownership import org_settings
from crm.queries import paginate
from crm.schemas import PageArgs, PageResult

if TYPE_CHECKING:
    from crm.loans.collections_schemas import NewCollection

CHANNELS = ("call", "sms", "wechat", "visit", "letter")


@dataclass(frozen=True, slots=True)
class Level:
    level: int
    bucket: str
    handler: str


LEVELS = {
    level.bucket: level
    for level in (
        Level(1, "M1", "agent"),
        Level(2, "M2", "team_lead"),
        Level(3, "M3", "manager"),
        Level(4, "M3+", "legal"),
    )
}
BY_NUMBER = {level.level: level for level in LEVELS.values()}


def level_for(days_past_due: int) -> Level:
    bucket = book.bucket(days_past_due)
    if bucket is None:
        raise ValueError("a loan that is not past due has no collection level")
    return LEVELS[bucket]


@dataclass
class CollectionView:
    record: CollectionRecord
    days_past_due: int | None

    @property
    def bucket(self) -> str:
        return BY_NUMBER[self.record.level].bucket

    @property
    def handler(self) -> str:
        return BY_NUMBER[self.record.level].handler

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


def oldest_past_due(session: Session, loan_id: int, today: date) -> Installment | None:
    """The loan's oldest installment unpaid after its due date, which sets its age."""
    return session.scalars(
        select(Installment)
        .where(
            Installment.loan_id == loan_id,
            Installment.status != "paid",
            Installment.due_date < today,
        )
        .order_by(Installment.due_date, Installment.n)
        .limit(1)
    ).first()


def add_collection(
    session: Session,
    actor: Actor,
    loan_id: int,
    data: NewCollection,
    now: datetime | None = None,
) -> CollectionView:
    """Record a collection action on a loan overdue now; 422 not_overdue otherwise."""
    now = now or utcnow()
    loan = book.get_loan(session, actor, loan_id)
    today = book.org_today(session, loan.org_id, now)
    oldest = None if loan.status == "cancelled" else oldest_past_due(session, loan.id, today)
    if oldest is None:
        raise DomainError("not_overdue", "only a loan with an installment past due is collected")
    if data.promised_date is not None and data.promised_date < today:
        raise DomainError("invalid_promised_date", "a promise to pay is for today or later")
    days = (today - oldest.due_date).days
    level = level_for(days)
    record = CollectionRecord(
        org_id=loan.org_id,
        loan_id=loan.id,
        installment_id=oldest.id,
        level=level.level,
        channel=data.channel,
        content=data.content,
        result=data.result,
        promised_date=data.promised_date,
        promised_amount=data.promised_amount,
        user_id=actor.user_id,
        created_at=now,
    )
    session.add(record)
    session.flush()
    event = {
        "loan_id": loan.id,
        "collection_id": record.id,
        "level": level.level,
        "bucket": level.bucket,
        "days_past_due": days,
        "channel": data.channel,
        "result": data.result,
    }
    lead = session.get(Lead, loan.lead_id)
    # a collection contact is a follow-up of the borrower: the lead is being worked on, so
    # neither recycling nor retention may treat it as idle
    lead.last_followup_at = now
    add_event(session, lead, actor, "collection", event, at=now)
    return CollectionView(record, days)


def list_collections(
    session: Session, actor: Actor, loan_id: int, args: PageArgs
) -> PageResult[CollectionView]:
    """A loan's collection records, the newest first."""
    loan = book.get_loan(session, actor, loan_id)
    stmt = (
        select(CollectionRecord)
        .where(CollectionRecord.loan_id == loan.id)
        .order_by(CollectionRecord.created_at.desc(), CollectionRecord.id.desc())
    )
    page = paginate(session, stmt, args)
    due_dates = dict(
        session.execute(
            select(Installment.id, Installment.due_date).where(
                Installment.id.in_({r.installment_id for r in page.items})
            )
        ).all()
    )
    zone = ZoneInfo(org_settings(session, loan.org_id).timezone)

    def age(record: CollectionRecord) -> int | None:
        due = due_dates.get(record.installment_id)
        return None if due is None else (record.created_at.astimezone(zone).date() - due).days

    views = [CollectionView(r, age(r)) for r in page.items]
    return PageResult(views, page.total, page.page, page.per_page)


@dataclass
class OverdueView:
    """An overdue-list row (book.ScheduleRow) with the loan's collection so far."""

    row: book.ScheduleRow
    last_collection_at: datetime | None
    collections: int

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def with_collections(session: Session, page: PageResult) -> PageResult[OverdueView]:
    """The overdue list's page with each loan's latest collection and count, in one query."""
    loan_ids = {row.loan_id for row in page.items}
    seen = {
        loan_id: (last, count)
        for loan_id, last, count in session.execute(
            select(
                CollectionRecord.loan_id,
                func.max(CollectionRecord.created_at),
                func.count(),
            )
            .where(CollectionRecord.loan_id.in_(loan_ids))
            .group_by(CollectionRecord.loan_id)
        )
    }
    items = [OverdueView(row, *seen.get(row.loan_id, (None, 0))) for row in page.items]
    return PageResult(items, page.total, page.page, page.per_page)
