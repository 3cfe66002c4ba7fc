"""Call lifecycle: guard and place a dial, follow the gateway's events, hang up, close orphans.

Functions take a session and return what changed; the socket layer emits it to consoles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.service import actor_for_user
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.errors import Conflict, DomainError, NotFound
from crm.followups.schemas import NewFollowup
from crm.followups.service import record_followup
from crm.funnel.stages import move_by_hand
from crm.leads.models import Lead
from crm.leads.service import add_event, get_lead
from crm.pools.ownership import org_settings
from crm.pools.service import claim
from crm.queries import in_period, increment_capped, paginate, where_given
from crm.schemas import PageResult
from crm.tenancy import ALL_ORGS
from dialer import dnc
from dialer.gateways.base import CallEvent
from dialer.guards import MESSAGES, DialFacts, local_time, parse_hours, refusal
from dialer.models import Call, CallerId, CallerIdDay, DncEntry
from dialer.schemas import CallFilters, DispositionIn


@dataclass(frozen=True)
class DialPlan:
    """A call row written and committed; the gateway is asked to place it afterwards."""

    call: Call
    caller_id: str
    callee_e164: str


class DialRefused(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(code, MESSAGES[code], 422)


def plan_dial(
    session: Session,
    actor: Actor,
    vault: PiiVault,
    lead_id: int,
    claim_on_connect: bool = False,
    server_id: str | None = None,
    now: datetime | None = None,
) -> DialPlan:
    """Check every calling rule, pick a caller ID and write the call as `dialing`, marked with
    the server process that holds the agent's console (see dialer/servers.py)."""
    now = now or utcnow()
    lead = get_lead(session, actor, lead_id, for_update=True)
    settings = org_settings(session, lead.org_id)
    local_now = local_time(now, settings.timezone)
    claim_on_connect = claim_on_connect and lead.owner_id is None
    if claim_on_connect and _ringing(session, lead.id):
        raise DialRefused("lead_in_call")
    on_dnc_list, calls_today, agent_on_a_call = _recorded_facts(
        session, lead, actor.user_id, _day_start(local_now)
    )
    facts = DialFacts(
        may_call_lead=lead.owner_id == actor.user_id or claim_on_connect,
        on_dnc_list=on_dnc_list,
        local_now=local_now,
        calling_hours=parse_hours(settings.calling_hours_start, settings.calling_hours_end),
        calls_to_lead_today=calls_today,
        max_calls_per_lead_per_day=settings.max_calls_per_lead_per_day,
        agent_on_a_call=agent_on_a_call,
    )
    if code := refusal(facts):
        raise DialRefused(code)
    caller_id = _take_caller_id(session, lead.org_id, local_now.date())
    if caller_id is None:
        raise DialRefused("no_caller_id")
    call = Call(
        org_id=lead.org_id,
        lead_id=lead.id,
        agent_id=actor.user_id,
        caller_id_id=caller_id.id,
        state="dialing",
        gateway="",
        started_at=now,
        claim_on_connect=claim_on_connect,
        server_id=server_id,
    )
    session.add(call)
    session.flush()
    return DialPlan(call, caller_id.number, vault.reveal(lead.phone_enc, "phone"))


def _ringing(session: Session, lead_id: int) -> bool:
    # the lead row is locked (get_lead for_update), so two consoles cannot both pass this
    stmt = select(Call.id).where(Call.lead_id == lead_id, Call.state != "ended").limit(1)
    return session.scalar(stmt) is not None


def open_call_of(session: Session, agent_id: int | None) -> Call | None:
    return session.scalars(
        select(Call).where(Call.agent_id == agent_id, Call.state != "ended").limit(1)
    ).first()


def _recorded_facts(
    session: Session, lead: Lead, agent_id: int, day_start: datetime
) -> tuple[bool, int, bool]:
    """What the calling rules need from the database, in one round trip: is the number on any
    org's DNC list, how many calls the lead has had today, is the agent on a call. No org
    scope on the statement: a DNC entry of any org counts, and the lead (already read within
    the actor's org) and the agent pin the calls down by themselves."""
    dnc = exists().where(DncEntry.phone_bidx == lead.phone_bidx)
    today = (
        select(func.count())
        .select_from(Call)
        .where(Call.lead_id == lead.id, Call.started_at >= day_start)
        .scalar_subquery()
    )
    busy = exists().where(Call.agent_id == agent_id, Call.state != "ended")
    row = session.execute(select(dnc, today, busy).execution_options(**ALL_ORGS)).one()
    return bool(row[0]), int(row[1]), bool(row[2])


def under_daily_cap(session: Session, org_id: int, now: datetime) -> ColumnElement[bool]:
    """Leads called fewer times today (the org's day) than `max_calls_per_lead_per_day`: a
    condition on `Lead`, for offering only leads a dial would not refuse as `frequency_cap`."""
    settings = org_settings(session, org_id)
    day_start = _day_start(local_time(now, settings.timezone))
    calls_today = (
        select(func.count())
        .select_from(Call)
        .where(Call.lead_id == Lead.id, Call.started_at >= day_start)
        .scalar_subquery()
    )
    return calls_today < settings.max_calls_per_lead_per_day


def _day_start(local_now: datetime) -> datetime:
    return local_now.replace(hour=0, minute=0, second=0, microsecond=0)


def _take_caller_id(session: Session, org_id: int, day: date) -> CallerId | None:
    """Rotate: the org's active number used least today that is still under its cap. Ties go
    at random: in a fixed order every dial of a busy floor would go for the same number's
    counter row and queue on its lock until the dialing transaction ahead commits."""
    used = (
        select(CallerIdDay.calls)
        .where(CallerIdDay.caller_id_id == CallerId.id, CallerIdDay.day == day)
        .scalar_subquery()
    )
    candidates = session.scalars(
        select(CallerId)
        .where(CallerId.org_id == org_id, CallerId.active.is_(True))
        .order_by(func.coalesce(used, 0), func.random())
    ).all()
    if not candidates:  # not "every number is at its cap": there is none to be at it
        raise DialRefused("no_caller_id_configured")
    for candidate in candidates:
        if increment_capped(
            session,
            CallerIdDay,
            {"caller_id_id": candidate.id, "day": day},
            "calls",
            cap=candidate.daily_cap,
        ):
            return candidate
    return None


# (call id, the provider's call id, the privacy number bridging it or None)
PlacedCall = tuple[int, str, str | None]
_calls = Call.__table__


def attach_gateway_calls(session: Session, gateway: str, placed: list[PlacedCall]) -> None:
    """Record the provider's ids of placed calls, in one statement (executemany)."""
    session.execute(
        update(_calls)
        .where(_calls.c.id == bindparam("call_id"))
        .values(
            gateway=gateway,
            gateway_call_id=bindparam("gateway_call_id"),
            privacy_number=bindparam("privacy_number"),
        ),
        [
            {"call_id": call_id, "gateway_call_id": ref, "privacy_number": number}
            for call_id, ref, number in placed
        ],
    )


# (event, the call's state) pairs that change nothing: a provider's repeat, or a ringing that
# arrives after the answer
_NO_CHANGE = {("answered", "answered"), ("ringing", "ringing"), ("ringing", "answered")}


def apply_event(session: Session, event: CallEvent) -> tuple[Call, bool] | None:
    """Record a gateway event on its call. Returns (call, claimed_now) or None for an unknown or
    already ended call (gateways repeat themselves; a late event must not reopen a call)."""
    if not event.call_ref.isdigit():
        return None
    call = session.scalars(
        select(Call)
        .where(Call.id == int(event.call_ref))
        .execution_options(**ALL_ORGS)
        .with_for_update()
    ).one_or_none()
    if call is None or call.state == "ended":
        return None
    if (event.state, call.state) in _NO_CHANGE:
        return None  # delivered again, or late: applied once already (pushes, agent state)
    claimed = False
    if event.state == "answered":
        call.state, call.answered_at = "answered", event.at
        claimed = call.claim_on_connect and _claim_on_connect(session, call, event.at)
    elif event.state == "ringing":
        call.state = "ringing"
    elif event.state == "ended":
        end_call(session, call, event.end_reason or "failed", event.at, event.recording_url)
    return call, claimed


def _claim_on_connect(session: Session, call: Call, at: datetime) -> bool:
    """Power dialing from the public pool: the lead becomes the agent's once the callee answers,
    through the same claim rules (caps, cooldowns) as a claim by hand. Refused or beaten to it,
    the conversation goes on and the lead stays where it is."""
    agent = actor_for_user(session, call.agent_id)
    try:
        with session.begin_nested():
            claim(session, agent, call.lead_id, at)
    except DomainError:
        return False
    return True


def end_call(
    session: Session, call: Call, reason: str, at: datetime, recording_url: str | None = None
) -> Call:
    call.state, call.ended_at, call.end_reason = "ended", at, reason
    call.recording_url = recording_url or call.recording_url
    if call.answered_at is not None:
        call.duration_s = max(0, int((at - call.answered_at).total_seconds()))
    lead = session.get(Lead, call.lead_id, execution_options=ALL_ORGS)
    add_event(
        session,
        lead,
        _agent(call),
        "call",
        {
            "call_id": call.id,
            "answered": call.answered_at is not None,
            "duration_s": call.duration_s,
            "end_reason": reason,
        },
        at=at,
    )
    return call


DISPOSITION_LABELS = {
    "no_answer": "未接通",
    "busy": "占线",
    "invalid_number": "空号/错号",
    "not_interested": "无意向",
    "callback": "约回电",
    "interested": "有意向",
    "applied": "已进件",
    "do_not_call": "要求勿扰",
}


def record_disposition(
    session: Session, actor: Actor, data: DispositionIn, now: datetime
) -> tuple[Lead, bool]:
    """The outcome of the agent's ended call: on their own lead a follow-up and any stage move,
    all at `now`; a do_not_call puts the number on the DNC list. Returns the lead and whether it
    was followed up (its score moved: the caller has it re-scored).

    The follow-up reached the person exactly when the call was answered, whatever outcome was
    picked. A callback promised on a pool lead (preview dialing, nobody answered) makes the
    lead the agent's, through the claim rules: a promise needs someone to keep it."""
    # locked: two saves at once (a double click, a second console) must not both find it open
    call = agent_call(session, actor, data.call_id, for_update=True)
    if call.state != "ended":
        raise DomainError("call_in_progress", "hang up before recording the outcome")
    if call.disposition is not None:
        raise Conflict("already_dispositioned", "this call already has its outcome")
    if data.disposition == "do_not_call" and data.next_followup_at is not None:
        raise DomainError(
            "callback_on_do_not_call", "a person who asked not to be called gets no callback"
        )
    call.disposition, call.note = data.disposition, data.note
    lead = session.get(Lead, call.lead_id, with_for_update=True)
    if data.next_followup_at is not None and lead.owner_id != actor.user_id:
        claim(session, actor, lead.id, now)
    followed_up = lead.owner_id == actor.user_id
    if followed_up:
        content = data.note or DISPOSITION_LABELS[data.disposition]
        followup = NewFollowup(
            channel="call",
            content=content,
            result=data.disposition,
            next_followup_at=data.next_followup_at,
            reached=call.answered_at is not None,
            replaces=data.replaces,
        )
        record_followup(session, actor, lead, followup, now)
        if data.stage and data.stage != lead.stage:
            move_by_hand(session, actor, lead, data.stage, data.reason, now=now)
    if data.disposition == "do_not_call":
        dnc.add_indexed(
            session,
            actor,
            lead.org_id,
            lead.phone_bidx,
            lead.phone_masked,
            "the person asked not to be called",
            "disposition",
            now,
        )
    return lead, followed_up


def _agent(call: Call) -> Actor:
    """The agent of a call as the actor of its timeline events (gateway events have no user)."""
    return Actor(call.agent_id, call.org_id, "agent", None, frozenset())


def call_log(session: Session, actor: Actor, f: CallFilters) -> PageResult:
    """Calls of the visible orgs, newest first; agents see their own calls only."""
    stmt = select(Call).order_by(Call.started_at.desc(), Call.id.desc())
    if not actor.can("reports:read"):
        stmt = stmt.where(Call.agent_id == actor.user_id)
    stmt = where_given(
        stmt,
        (Call.agent_id, f.agent_id),
        (Call.lead_id, f.lead_id),
        (Call.disposition, f.disposition),
    )
    return paginate(session, in_period(stmt, Call.started_at, f.from_, f.to), f)


def agent_call(session: Session, actor: Actor, call_id: int, for_update: bool = False) -> Call:
    """The agent's own call; `for_update` locks it until commit (its outcome is written once)."""
    stmt = select(Call).where(Call.id == call_id, Call.agent_id == actor.user_id)
    call = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if call is None:
        raise NotFound("call")
    return call


def close_open_calls(
    session: Session,
    reason: str,
    agent_id: int | None = None,
    now: datetime | None = None,
    server_id: str | None = None,
) -> list[Call]:
    """Calls that lost their console (disconnect) or their server (restart, shutdown) are
    closed with the reason, never left open. With neither an agent nor a server: every open
    call, used at the embedded server's start."""
    stmt = select(Call).where(Call.state != "ended").execution_options(**ALL_ORGS)
    if agent_id is not None:
        stmt = stmt.where(Call.agent_id == agent_id)
    if server_id is not None:
        stmt = stmt.where(Call.server_id == server_id)
    calls = list(session.scalars(stmt))
    for call in calls:
        end_call(session, call, reason, now or utcnow())
    return calls
