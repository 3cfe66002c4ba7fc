"""Rules that take leads back from agents: recycling to the pool (回收) and follow-up escalation.

Both sweep every org under its own settings, in batches of one committed transaction each: a run
stopped halfway keeps what it did, and a re-run finds only what is still due. Time is injected.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM
from crm.leads.models import Lead
from crm.orgs.models import Team, User
from crm.pools.distribution import Roster, Skip, team_roster
from crm.pools.limit import WORKING_STAGES
from crm.pools.ownership import return_to_pool
from crm.sweeps import (
    BATCH_SIZE,
    Notices,
    Push,
    Transaction,
    in_batches,
    org_groups,
    send_notices,
)
from dialer.models import Call

# A call of the owner's that ended this recently without an outcome is still being written up
# (wrap-up): the lead stays theirs until they save it, or this long has passed.
WRAP_UP_GRACE = timedelta(minutes=30)


def recycle(
    transaction: Transaction, now: datetime, push: Push | None = None, batch_size: int = BATCH_SIZE
) -> dict:
    """Return to the pool every lead with no follow-up for `recycle_after_days` or no stage
    progress for `stale_after_days`; the former owner is told (live through `push`, when
    given) and waits out the cooldown."""
    counts: Counter[str] = Counter()
    for (followup_days, stale_days), org_ids in org_groups(
        transaction, lambda s: (s.recycle_after_days, s.stale_after_days)
    ).items():
        silent = _untouched_since(Lead.last_followup_at, now - timedelta(days=followup_days))
        stale = _untouched_since(Lead.stage_changed_at, now - timedelta(days=stale_days))
        reason = case((silent, literal("no_followup")), else_=literal("stale")).label("reason")
        due = select(Lead, reason).where(
            Lead.org_id.in_(org_ids),
            Lead.owner_id.is_not(None),
            Lead.stage.in_(WORKING_STAGES),
            or_(silent, stale),
            ~_on_a_call(now),
        )
        counts += in_batches(
            transaction, due, batch_size, partial(_return_rows, now=now, push=push)
        )
    return {"recycled": counts.total(), **{k: counts[k] for k in ("no_followup", "stale")}}


def escalate(
    transaction: Transaction, now: datetime, push: Push | None = None, batch_size: int = BATCH_SIZE
) -> dict:
    """A missed next follow-up alerts the owner's team lead once `escalate_after_hours` late,
    and after `reassign_after_hours` the lead goes to a teammate (round-robin) or, when the team
    has nobody else, back to the pool; the owner is told either way."""
    counts: Counter[str] = Counter()
    for (alert_hours, move_hours), org_ids in org_groups(
        transaction, lambda s: (s.escalate_after_hours, s.reassign_after_hours)
    ).items():
        # alert first, so a lead found past both limits has still told its team lead
        late = _overdue(org_ids, now - timedelta(hours=alert_hours))
        alert = partial(_alert_team_leads, now=now, push=push)
        counts += in_batches(
            transaction, late.where(Lead.escalated_at.is_(None)), batch_size, alert
        )
        very_late = _overdue(org_ids, now - timedelta(hours=move_hours)).where(
            Lead.stage.in_(WORKING_STAGES), ~_on_a_call(now)
        )
        take = partial(_take_from_owners, due=very_late, now=now, push=push)
        counts += in_batches(transaction, very_late, batch_size, take, lock=False)
    return {k: counts[k] for k in ("escalated", "reassigned", "returned")}


def _return_rows(
    session: Session, rows: Sequence[Row[Any]], *, now: datetime, push: Push | None
) -> Counter[str]:
    returned: Counter[str] = Counter()
    notices: Notices = defaultdict(list)
    for lead, reason in rows:
        notices[lead.org_id, lead.owner_id].append(lead.id)
        return_to_pool(session, SYSTEM, lead, "recycled", {"reason": reason}, now)
        returned[reason] += 1
    send_notices(
        session, notices, push, "lead_recycled", "{n} 条线索长期未跟进或无进展，已回收到公海", now
    )
    return returned


def _untouched_since(column: Any, cut: datetime) -> ColumnElement[bool]:
    """Nothing recorded in `column` since `cut`, and the current owner has had the lead since
    before it: a follow-up or stage move by a former owner does not shorten the new one's time."""
    return and_(
        func.coalesce(Lead.claimed_at, Lead.created_at) < cut,
        or_(column.is_(None), column < cut),
    )


def _on_a_call(now: datetime) -> ColumnElement[bool]:
    """The owner is on a call with the lead, or writing it up: that is the follow-up the rules
    ask for, happening now. Taken away mid-call, the lead would refuse the call's outcome (a
    callback is a claim, and the former owner is in the reclaim cooldown), and the promise
    made to the person would be lost with it; the next sweep looks at the lead again."""
    return exists().where(
        Call.lead_id == Lead.id,
        Call.agent_id == Lead.owner_id,
        Call.disposition.is_(None),
        or_(Call.state != "ended", Call.ended_at >= now - WRAP_UP_GRACE),
    )


def _overdue(org_ids: list[int], cut: datetime) -> Select:
    """Owned leads whose next follow-up was due before `cut`; the owner always gets as long
    from the claim, since the date may be a former owner's."""
    return select(Lead).where(
        Lead.org_id.in_(org_ids),
        Lead.owner_id.is_not(None),
        Lead.next_followup_at < cut,
        func.coalesce(Lead.claimed_at, Lead.created_at) < cut,
    )


def _alert_team_leads(
    session: Session, rows: Sequence[Row[Any]], *, now: datetime, push: Push | None
) -> Counter[str]:
    owners = _owners(session, rows)
    teams = {owner.team_id for owner in owners.values()}
    team_leads = dict(
        session.execute(select(Team.id, Team.lead_user_id).where(Team.id.in_(teams))).all()
    )
    notices: Notices = defaultdict(list)
    for (lead,) in rows:
        team_lead = team_leads.get(owners[lead.owner_id].team_id)
        if team_lead is not None and team_lead != lead.owner_id:
            notices[lead.org_id, team_lead].append(lead.id)
        # marked even when nobody could be told, so the lead is looked at once, not every run
        lead.escalated_at = now
    send_notices(
        session, notices, push, "followup_overdue", "团队有 {n} 条线索已超过约定跟进时间未跟进", now
    )
    return Counter(escalated=len(rows))


def _take_from_owners(
    session: Session, rows: Sequence[Row[Any]], *, due: Select, now: datetime, push: Push | None
) -> Counter[str]:
    owners = _owners(session, rows)
    # the teammates' rows first, then the leads (re-checked: still due?), the order claims and
    # assignments lock in, so none of them waits on another in a circle
    rosters = {
        owner.team_id: team_roster(session, owner.team_id, owner.org_id, now)
        for owner in owners.values()
        if owner.team_id is not None
    }
    leads = session.scalars(
        due.where(Lead.id.in_([lead.id for (lead,) in rows]))
        .order_by(Lead.id)
        .with_for_update(skip_locked=True, of=Lead)
        .execution_options(populate_existing=True)
    )
    moved: Counter[str] = Counter()
    lost: Notices = defaultdict(list)
    gained: Notices = defaultdict(list)
    returned: Notices = defaultdict(list)
    data = {"reason": "followup_overdue"}
    for lead in leads:
        owner = owners.get(lead.owner_id)
        if owner is None:  # changed hands between the scan and the lock: not overdue anymore
            continue
        found = _teammate(rosters.get(owner.team_id), owner)
        if found is None:
            returned[lead.org_id, owner.id].append(lead.id)
            return_to_pool(session, SYSTEM, lead, "recycled", data, now)
            moved["returned"] += 1
            continue
        roster, agent = found
        lost[lead.org_id, owner.id].append(lead.id)
        gained[lead.org_id, agent.id].append(lead.id)
        roster.give(session, SYSTEM, lead, agent, data, now)
        moved["reassigned"] += 1
    send_notices(
        session, lost, push, "lead_reassigned", "{n} 条线索超时未跟进，已转给同组同事", now
    )
    send_notices(
        session, gained, push, "lead_assigned", "你收到 {n} 条同事超时未跟进的线索，请尽快跟进", now
    )
    send_notices(
        session, returned, push, "lead_recycled", "{n} 条线索超时未跟进，已回收到公海", now
    )
    return moved


def _teammate(roster: Roster | None, owner: User) -> tuple[Roster, User] | None:
    """The owner's teammate whose turn it is, or None when the team has nobody else free."""
    if roster is None:
        return None
    try:
        return roster, roster.pick(exclude=owner.id)
    except Skip:
        return None


def _owners(session: Session, rows: Sequence[Row[Any]]) -> dict[int, User]:
    ids = {row[0].owner_id for row in rows}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))}
