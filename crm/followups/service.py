"""Working a lead: follow-ups (跟进), stage moves, and the agents' due lists."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError, Forbidden
from crm.followups import schedule
from crm.followups.models import Followup, ScheduledFollowup
from crm.followups.schemas import DueArgs, NewFollowup, ScheduledArgs, StageChange
from crm.funnel.stages import change_stage, move_by_hand
from crm.leads.models import Lead
from crm.leads.service import add_event, get_lead
from crm.orgs.models import User
from crm.pools.ownership import org_settings
from crm.queries import get_visible, paginate
from crm.schemas import PageArgs, PageResult
from crm.scoring.service import rescore

# Further out than this is a typo (2062 for 2026) or a lead parked outside the recycle rules.
NEXT_FOLLOWUP_HORIZON = timedelta(days=365)
# Without a word from the agent, these channels reach the person; a call's result can say it
# did not (the dialer says from the call itself whether it was answered).
REACHING_CHANNELS = frozenset({"call", "visit", "wechat"})
UNREACHED_RESULTS = frozenset({"no_answer", "busy", "invalid_number"})


def ensure_may_work(actor: Actor, lead: Lead) -> None:
    """Only the lead's owner, or someone who hands leads out (leads:assign), works on it."""
    if lead.owner_id != actor.user_id and not actor.can("leads:assign"):
        # get_lead's visibility() hides colleagues' leads from such an actor (404), so what
        # reaches here is a public-pool lead
        raise DomainError(
            "not_owner", "only the lead's owner works on it: claim it from the pool first", 403
        )


def add_followup(
    session: Session, actor: Actor, lead_id: int, data: NewFollowup, now: datetime | None = None
) -> Followup:
    """Record a contact with the lead, reschedule it and re-score it."""
    lead = get_lead(session, actor, lead_id, for_update=True)
    followup = record_followup(session, actor, lead, data, now)
    rescore(session, [lead], followup.created_at)
    return followup


def record_followup(
    session: Session, actor: Actor, lead: Lead, data: NewFollowup, now: datetime | None = None
) -> Followup:
    """A follow-up on a lead the caller read locked; the caller re-scores the lead (the dialer
    batches its re-scores: crm/scoring/refresh.py).

    Reaching the person means contacted: a `new` lead moves to `contacted` (through
    change_stage like every other stage move) only when the contact reached them, so a call
    nobody answered leaves it new. Promised times are kept as crm/followups/schedule.py says.
    """
    now = now or utcnow()
    ensure_may_work(actor, lead)
    next_at = _checked_next_followup(data.next_followup_at, now)
    followup = Followup(
        org_id=lead.org_id,
        lead_id=lead.id,
        user_id=actor.user_id,
        channel=data.channel,
        content=data.content,
        result=data.result,
        reached=reached_person(data),
        next_followup_at=next_at,
        created_at=now,
    )
    session.add(followup)
    session.flush()  # the timeline event and the promise point at the follow-up by id
    lead.last_followup_at = now
    schedule.apply_followup(session, lead, followup, data.replaces, now)
    # the missed follow-up that escalated the lead has now happened
    lead.escalated_at = None
    add_event(
        session,
        lead,
        actor,
        "followup",
        {
            "channel": data.channel,
            "result": data.result,
            "followup_id": followup.id,
            "reached": followup.reached,
        },
        at=now,
    )
    if lead.stage == "new" and followup.reached:
        change_stage(session, actor, lead, "contacted", now=now)
    return followup


def reached_person(data: NewFollowup) -> bool:
    if data.reached is not None:
        return data.reached
    return data.channel in REACHING_CHANNELS and data.result not in UNREACHED_RESULTS


def list_followups(session: Session, actor: Actor, lead_id: int, args: PageArgs) -> PageResult:
    lead = get_lead(session, actor, lead_id)
    stmt = (
        select(Followup)
        .where(Followup.lead_id == lead.id)
        .order_by(Followup.created_at.desc(), Followup.id.desc())
    )
    return paginate(session, stmt, args)


def move_stage(session: Session, actor: Actor, lead_id: int, data: StageChange) -> Lead:
    lead = get_lead(session, actor, lead_id, for_update=True)
    ensure_may_work(actor, lead)
    return move_by_hand(session, actor, lead, data.stage, data.reason)


def due_leads(
    session: Session, actor: Actor, args: DueArgs, now: datetime | None = None
) -> PageResult:
    """An agent's work list, soonest first: own leads whose next follow-up falls today (the org's
    calendar day), is overdue (before now, so earlier today too) or upcoming (after today)."""
    now = now or utcnow()
    owner_id, org_id = _list_owner(session, actor, args.owner_id)
    start, end = day_bounds(now, org_settings(session, org_id).timezone)
    due = {
        "today": and_(Lead.next_followup_at >= start, Lead.next_followup_at < end),
        "overdue": Lead.next_followup_at < now,
        "upcoming": Lead.next_followup_at >= end,
    }[args.when]
    stmt = (
        select(Lead).where(Lead.owner_id == owner_id, due).order_by(Lead.next_followup_at, Lead.id)
    )
    return paginate(session, stmt, args)


def scheduled(
    session: Session, actor: Actor, args: ScheduledArgs, now: datetime | None = None
) -> PageResult:
    """Promised follow-ups of an agent's leads in one window, soonest first, with their lead."""
    now = now or utcnow()
    owner_id, org_id = _list_owner(session, actor, args.owner_id)
    _start, end = day_bounds(now, org_settings(session, org_id).timezone)
    stmt = (
        schedule.owned_open(owner_id)
        .where(schedule.due_window(ScheduledFollowup.due_at, args.when, now, end))
        .order_by(ScheduledFollowup.due_at, ScheduledFollowup.id)
    )
    page = paginate(session, stmt, args)
    lead_ids = [promise.lead_id for promise in page.items]
    leads = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(lead_ids)))}
    items = [{**_columns(p), "lead": leads[p.lead_id]} for p in page.items]
    return PageResult(items, page.total, page.page, page.per_page)


def scheduled_counts(
    session: Session, actor: Actor, owner_id: int | None = None, now: datetime | None = None
) -> dict[str, int]:
    """How many promised follow-ups each window holds: the console's tab counts."""
    now = now or utcnow()
    owner_id, org_id = _list_owner(session, actor, owner_id)
    _start, end = day_bounds(now, org_settings(session, org_id).timezone)
    open_ = schedule.owned_open(owner_id).subquery()
    counts = session.execute(
        select(
            *(
                func.count().filter(schedule.due_window(open_.c.due_at, when, now, end)).label(when)
                for when in schedule.WHEN
            )
        ).select_from(open_)
    ).one()
    return dict(counts._mapping)


def lead_scheduled(session: Session, actor: Actor, lead_id: int) -> list[ScheduledFollowup]:
    """The lead's open promises, soonest first (what a new follow-up may keep or replace)."""
    return schedule.open_promises(session, get_lead(session, actor, lead_id))


def _columns(promise: ScheduledFollowup) -> dict:
    return {
        "id": promise.id,
        "lead_id": promise.lead_id,
        "followup_id": promise.followup_id,
        "due_at": promise.due_at,
        "created_at": promise.created_at,
    }


def day_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """Start of `now`'s date and of the next one in `timezone`: a Shanghai agent's day begins at
    16:00 UTC the day before, so a UTC calendar would shift eight hours of work between lists."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(), tzinfo=zone)
    return start, datetime.combine(today + timedelta(days=1), time(), tzinfo=zone)


def _list_owner(session: Session, actor: Actor, owner_id: int | None) -> tuple[int, int]:
    """Whose due list, as (user id, org id): mine, or a colleague's for team leads and managers."""
    if owner_id is None or owner_id == actor.user_id:
        return actor.user_id, actor.org_id
    if not actor.can("leads:assign"):
        raise Forbidden("only team leads and managers can see another agent's due list")
    owner = get_visible(session, User, owner_id, "user")
    return owner.id, owner.org_id


def _checked_next_followup(at: datetime | None, now: datetime) -> datetime | None:
    if at is None:
        return None
    latest = now + NEXT_FOLLOWUP_HORIZON
    if not now < at <= latest:
        raise DomainError(
            "invalid_next_followup",
            "the next follow-up must be in the future and within a year",
            details={"after": now.isoformat(), "not_after": latest.isoformat()},
        )
    # stored and answered in UTC, as every other time in the API
    return at.astimezone(UTC)
