"""Scheduled notices about leads, each sent once: a follow-up coming due (to its agent's
console) and a lead left untouched in a private pool (to the owner's team lead).

Notices are stored (the console's list) and pushed live through `push` once committed; the
`lead_notices_sent` rows make a re-run, a retry or an overlapping run send nothing twice."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Row, exists, select
from sqlalchemy.orm import Session

from crm.compliance.retention import idle_since
from crm.leads.models import Lead
from crm.orgs.models import Team, User
from crm.reminders.models import LeadNoticeSent
from crm.sweeps import BATCH_SIZE, Push, Transaction, in_batches, org_groups, send_notices

# An agent hears of a follow-up this long before it is due; one missed by more than a day (the
# job was down) is escalation's business (crm/pools/recycle.py), not a reminder's.
REMIND_AHEAD = timedelta(minutes=15)
REMIND_LATE = timedelta(days=1)
# Recycling (crm/pools/recycle.py) takes back stale leads still being worked on; a lead that has
# applied stays with its agent, so only an alert tells the team lead it sits untouched.
STALE_STAGES = ("applied", "approved")

FOLLOWUP_DUE = "followup_due"
STALE_LEAD = "stale_lead"


def remind_due_followups(
    transaction: Transaction, now: datetime, push: Push, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Tell each agent of their follow-ups due within REMIND_AHEAD, once per due time."""
    already = exists().where(
        LeadNoticeSent.lead_id == Lead.id,
        LeadNoticeSent.kind == FOLLOWUP_DUE,
        LeadNoticeSent.about == Lead.next_followup_at,
    )
    due = select(Lead).where(
        Lead.owner_id.is_not(None),
        Lead.next_followup_at <= now + REMIND_AHEAD,
        Lead.next_followup_at > now - REMIND_LATE,
        ~already,
    )
    handle = partial(_remind, push=push, now=now)
    return {"reminded": in_batches(transaction, due, batch_size, handle, lock=False)["sent"]}


def _remind(session: Session, rows: Sequence[Row[Any]], *, push: Push, now: datetime) -> Counter:
    notices: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    for (lead,) in rows:
        session.add(
            LeadNoticeSent(
                org_id=lead.org_id, lead_id=lead.id, kind=FOLLOWUP_DUE, about=lead.next_followup_at
            )
        )
        notices[lead.org_id, lead.owner_id].append(lead.id)
    send_notices(session, notices, push, FOLLOWUP_DUE, "你有 {n} 条线索的约定跟进时间快到了", now)
    return Counter(sent=len(rows))


def alert_stale_leads(
    transaction: Transaction, now: datetime, push: Push, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Tell team leads of owned leads in STALE_STAGES untouched for the org's
    `stale_after_days`, once per untouched spell (a touch, then a new spell, alerts again)."""
    counts: Counter[str] = Counter()
    for days, org_ids in org_groups(transaction, lambda s: s.stale_after_days).items():
        cut = now - timedelta(days=days)
        due = select(Lead).where(
            Lead.org_id.in_(org_ids),
            Lead.owner_id.is_not(None),
            Lead.stage.in_(STALE_STAGES),
            *idle_since(cut),
        )
        alert = partial(_alert, push=push, now=now)
        counts += in_batches(transaction, due, batch_size, alert, lock=False)
    return {"alerted": counts["sent"]}


def _last_touch(lead: Lead) -> datetime:
    touches = (lead.created_at, lead.claimed_at, lead.last_followup_at, lead.stage_changed_at)
    return max(t for t in touches if t is not None)


def _alert(session: Session, rows: Sequence[Row[Any]], *, push: Push, now: datetime) -> Counter:
    leads = [lead for (lead,) in rows]
    sent = set(
        session.execute(
            select(LeadNoticeSent.lead_id, LeadNoticeSent.about).where(
                LeadNoticeSent.kind == STALE_LEAD,
                LeadNoticeSent.lead_id.in_([lead.id for lead in leads]),
            )
        ).all()
    )
    team_leads = dict(
        session.execute(
            select(User.id, Team.lead_user_id)
            .join(Team, Team.id == User.team_id)
            .where(User.id.in_({lead.owner_id for lead in leads}))
        ).all()
    )
    notices: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    for lead in leads:
        about = _last_touch(lead)
        if (lead.id, about) in sent:
            continue
        session.add(
            LeadNoticeSent(org_id=lead.org_id, lead_id=lead.id, kind=STALE_LEAD, about=about)
        )
        team_lead = team_leads.get(lead.owner_id)
        if team_lead is not None:
            notices[lead.org_id, team_lead].append(lead.id)
    send_notices(session, notices, push, STALE_LEAD, "团队有 {n} 条已进件线索长期无人跟进", now)
    return Counter(sent=sum(len(ids) for ids in notices.values()))
