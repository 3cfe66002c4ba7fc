"""What every report shares: the reporting period, rates and money as the API writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError
from crm.orgs.schemas import OrgSettings
from crm.pools.ownership import org_settings

DEFAULT_PERIOD = timedelta(days=30)
PERIOD_NAMES = ("today", "yesterday", "last_7_days", "last_30_days", "this_month", "last_month")
# A year plus a leap day: bounds the cohort a report scans, whose cost grows with it (bench/).
MAX_PERIOD = timedelta(days=366)
RATE_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Period:
    """The half-open range [start, end): a row stamped exactly `end` belongs to the next period."""

    start: datetime
    end: datetime

    def contains(self, column: InstrumentedAttribute) -> ColumnElement[bool]:
        return (column >= self.start) & (column < self.end)


def resolve_period(
    session: Session,
    actor: Actor,
    start: date | datetime | None,
    end: date | datetime | None,
    now: datetime | None = None,
    name: str | None = None,
) -> Period:
    """The period asked for: a named one (named_period), or `end` defaulting to now
    and `start` to 30 days before `end`.

    A bare date is midnight at the start of that day in the actor's org time zone, so
    `from=2026-11-01&to=2026-12-01` is all of November for a Beijing broker.
    """
    zone = org_zone(session, actor)
    if name is not None:
        return named_period(name, now or utcnow(), zone)
    end_at = _instant(end, zone) if end is not None else now or utcnow()
    start_at = _instant(start, zone) if start is not None else end_at - DEFAULT_PERIOD
    if end_at <= start_at:
        raise DomainError("invalid_period", "'from' must be before 'to'")
    if end_at - start_at > MAX_PERIOD:
        raise DomainError(
            "period_too_long",
            f"a report covers at most {MAX_PERIOD.days} days",
            details={"max_days": MAX_PERIOD.days},
        )
    return Period(start_at, end_at)


def days(zone: ZoneInfo, first: date, end: date) -> Period:
    """The local days [first, end) as one half-open range of instants."""
    return Period(
        datetime.combine(first, time.min, tzinfo=zone), datetime.combine(end, time.min, tzinfo=zone)
    )


def named_period(name: str, now: datetime, zone: ZoneInfo) -> Period:
    """The named periods every page reports on (dashboard, big screen, wallboard, the console's
    own figures): whole calendar days in the org's zone, so two pages asking for the last 30
    days at the same moment count the same rows. Those including today end at tomorrow's
    midnight: what has not happened yet is simply not counted."""
    today = now.astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    month_start = today.replace(day=1)
    first, end = {
        "today": (today, tomorrow),
        "yesterday": (today - timedelta(days=1), today),
        "last_7_days": (today - timedelta(days=6), tomorrow),
        "last_30_days": (today - timedelta(days=29), tomorrow),
        "this_month": (month_start, tomorrow),
        "last_month": ((month_start - timedelta(days=1)).replace(day=1), month_start),
    }[name]
    return days(zone, first, end)


def org_zone(session: Session, actor: Actor) -> ZoneInfo:
    """The actor's org time zone; the system actor has no org and reads the product's default."""
    settings = org_settings(session, actor.org_id) if actor.org_id else OrgSettings()
    return ZoneInfo(settings.timezone)


def rate(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """`part / whole` as a fraction with four places ("0.4500"); None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP)


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENTS, ROUND_HALF_UP)


def summed(value: object) -> Decimal:
    """A SQL sum of money as Decimal cents. PostgreSQL sums numeric exactly; SQLite hands the
    sum back as a float, whose text rounded to cents is exact while its error stays under half
    a cent (about 1e-16 of the sum per row added: fine for the embedded mode's sizes)."""
    return money(Decimal(str(value or 0)))


def per(amount: Decimal, count: int) -> Decimal | None:
    """Money per item (cost per lead, per disbursed loan); None when nothing was counted."""
    return money(amount / count) if count else None


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=zone)
