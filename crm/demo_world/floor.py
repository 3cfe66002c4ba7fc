"""The telesales floor's working day in the demo's history: each agent claims leads from the
public pool (best score first), calls their own leads when they fall due and records every
outcome, one call after another in simulated time, while the day's new leads come in."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.demo_world import loans, replies
from crm.demo_world.arrivals import Arrivals
from crm.demo_world.calls import Line
from crm.demo_world.options import draw
from crm.demo_world.staff import Office, Run
from crm.errors import DomainError
from crm.leads.models import Lead
from crm.leads.schemas import LeadFilters
from crm.leads.service import filtered_leads
from crm.pools.models import ClaimBlock
from crm.pools.service import claim, claim_next

SHIFT_START, LUNCH, LUNCH_END, SHIFT_END = time(9, 5), time(12, 0), time(13, 30), time(18, 0)
# dials a day a desk has time for; leads to call are what usually runs out first
CALLS_A_DAY = 150
WEEKEND = 0.6
# the floor claims about what came in: more would drain the pool down to the leads recycled
# last week and call them again and again
CLAIM_MARGIN = 1.0
CLAIM_NEXT_SHARE = 0.2  # claims by the claim-next button rather than off the pool list
# no call starts so close to the world's present that it would end after it
LAST_CALL_MARGIN = timedelta(minutes=20)
WORKED_STAGES = ("new", "contacted", "qualified")
# leads an agent lets slip after the first call: the escalation and recycling rules catch them
NEGLECT = 0.05
# the morning appointment of a demo's present (book_appointment): when, and among how many of
# the warmest leads a product is looked for
APPOINTMENT_AT, APPOINTMENT_CANDIDATES = time(10, 0), 10
# pacing (_pace): dials per lead in a day, a call's own seconds, bounds of the time between
RETRIES, AVERAGE_CALL, MIN_PACE, MAX_PACE = 1.6, 90, 30, 1800


@dataclass
class Desk:
    """One seller's day: when they work, what they may still do, and whom to call when."""

    line: Line
    start: datetime
    lunch: tuple[datetime, datetime]
    end: datetime
    calls_left: int
    claims_left: int
    queue: list[tuple[datetime, int]] = field(default_factory=list)
    pace: float = 120.0  # seconds of other work between calls, on average
    booked: int | None = None  # the lead of the day's appointment (book_appointment)

    @property
    def actor(self) -> Actor:
        return self.line.agent

    def due(self, at: datetime) -> int | None:
        if self.queue and self.queue[0][0] <= at:
            return heapq.heappop(self.queue)[1]
        return None


def work_day(
    session: Session,
    run: Run,
    office: Office,
    day: date,
    arrivals: Arrivals,
    appointment: bool = False,
) -> set[Lead]:
    """The office's calls of `day` up to the world's present; returns the leads followed up.
    With `appointment`, the day has the office's morning appointment (book_appointment)."""
    rng = run.rng("floor", office.org_id, day)
    stop = min(office.at(day, office.closes), run.now - LAST_CALL_MARGIN)
    claims = math.ceil(len(arrivals.due) * CLAIM_MARGIN / max(1, len(office.sellers)))
    desks = [_desk(session, run, office, actor, day, claims, rng) for actor in office.sellers]
    if appointment:
        book_appointment(session, run, desks, office.at(day, APPOINTMENT_AT))
    waiting = [(desk.start, n, desk) for n, desk in enumerate(desks) if desk.start < stop]
    heapq.heapify(waiting)
    touched: set[Lead] = set()
    while waiting:
        at, n, desk = heapq.heappop(waiting)
        if at >= min(desk.end, stop) or desk.calls_left <= 0:
            _leave(run, desk, at)
            continue
        if desk.lunch[0] <= at < desk.lunch[1]:
            _lunch(run, desk, at)
            heapq.heappush(waiting, (desk.lunch[1], n, desk))
            continue
        arrivals.until(session, run.vault, at.replace(minute=0, second=0, microsecond=0))
        lead_id = desk.due(at) or _claim(session, run, desk, at, rng)
        if lead_id is None:
            if desk.queue:  # nothing due yet: other work until the next callback
                heapq.heappush(waiting, (desk.queue[0][0], n, desk))
            else:
                _leave(run, desk, at)
            continue
        done = _call(session, run, office, desk, lead_id, at, rng, touched)
        between = timedelta(seconds=desk.pace * rng.uniform(0.5, 1.5))
        heapq.heappush(waiting, (done + between, n, desk))
    arrivals.until(session, run.vault, min(office.at(day + timedelta(days=1), time()), run.now))
    for desk in desks:
        desk.line.write_states()
    return touched


def book_appointment(session: Session, run: Run, desks: list[Desk], at: datetime) -> None:
    """The warmest lead of the office's sellers that a product of theirs takes, booked the day
    before to hand in their documents and apply on a call at `at` (预约进件): they pick up, and
    the application goes in."""
    by_seller = {desk.actor.user_id: desk for desk in desks if desk.start <= at}
    leads = session.scalars(
        select(Lead)
        .where(Lead.owner_id.in_(by_seller), Lead.stage.in_(("contacted", "qualified")))
        .order_by(Lead.id)
    ).all()
    warmest = sorted(leads, key=lambda lead: -replies.temper_of(run.seed, lead).keen)
    for lead in warmest[:APPOINTMENT_CANDIDATES]:
        desk = by_seller[lead.owner_id]
        if loans.choose(session, run, desk.actor, lead) is not None:
            desk.queue = [(due, lead_id) for due, lead_id in desk.queue if lead_id != lead.id]
            heapq.heapify(desk.queue)
            heapq.heappush(desk.queue, (at, lead.id))
            desk.booked = lead.id
            return


def _desk(
    session: Session,
    run: Run,
    office: Office,
    actor: Actor,
    day: date,
    claims: int,
    rng: random.Random,
) -> Desk:
    weekend = WEEKEND if day.weekday() >= 5 else 1.0
    start = office.at(day, SHIFT_START) + timedelta(minutes=rng.uniform(0, 15))
    desk = Desk(
        line=Line(session, run.vault, actor),
        start=start,
        lunch=(office.at(day, LUNCH), office.at(day, LUNCH_END)),
        end=office.at(day, SHIFT_END) + timedelta(minutes=rng.uniform(0, 30)),
        calls_left=int(CALLS_A_DAY * weekend * rng.uniform(0.8, 1.1)),
        claims_left=claims,
    )
    if start <= run.now:
        desk.line.enter("available", start)
        desk.queue = _own_leads(session, run, desk)
        desk.pace = _pace(desk)
    return desk


def _pace(desk: Desk) -> float:
    """Other work between calls (notes, WeChat, paperwork) so that the day's calls spread over
    the shift instead of all coming first thing: about the shift's time over the calls it will
    take, with the retries unanswered calls bring."""
    working = (desk.end - desk.start - (desk.lunch[1] - desk.lunch[0])).total_seconds()
    calls = RETRIES * (len(desk.queue) + desk.claims_left)
    return min(MAX_PACE, max(MIN_PACE, working / max(1, calls) - AVERAGE_CALL))


def _own_leads(session: Session, run: Run, desk: Desk) -> list[tuple[datetime, int]]:
    """The seller's leads due by the end of the day, when each may be called."""
    leads = session.scalars(
        select(Lead).where(
            Lead.owner_id == desk.actor.user_id,
            Lead.stage.in_(WORKED_STAGES),
            (Lead.next_followup_at < desk.end) | Lead.next_followup_at.is_(None),
        )
    )
    queue = [
        (max(lead.next_followup_at or desk.start, desk.start), lead.id)
        for lead in leads
        if not _neglected(run, lead, desk.actor)
    ]
    heapq.heapify(queue)
    return queue


def _neglected(run: Run, lead: Lead, actor: Actor) -> bool:
    key = (lead.created_at.isoformat(), lead.phone_masked, actor.user_id)
    return draw(run.seed, "neglect", *key) < NEGLECT


def _claim(session: Session, run: Run, desk: Desk, at: datetime, rng: random.Random) -> int | None:
    """A lead from the public pool: mostly the best fresh one off the pool list, now and then
    claim-next's pick, the best of the whole pool, which brings back a lead recycled or lost
    earlier when it scores as well (公海再营销)."""
    if desk.claims_left <= 0:
        return None
    fresh = None if rng.random() < CLAIM_NEXT_SHARE else _best_fresh(session, run, desk, at)
    try:
        lead = (
            claim_next(session, desk.actor, now=at)
            if fresh is None
            else claim(session, desk.actor, fresh, now=at)
        )
    except DomainError:  # the pool is empty, the agent's caps are reached
        desk.claims_left = 0
        return None
    desk.claims_left -= 1
    return lead.id


def _best_fresh(session: Session, run: Run, desk: Desk, at: datetime) -> int | None:
    """The top of the agent's pool list filtered to new leads, best score first, passing over
    those recycled from them whose reclaim cooldown still runs (the list shows them too)."""
    shown = LeadFilters(pool="public", stage="new", org_id=desk.actor.org_id, sort="-score")
    blocked = exists().where(
        ClaimBlock.lead_id == Lead.id,
        ClaimBlock.user_id == desk.actor.user_id,
        ClaimBlock.until > at,
    )
    stmt = filtered_leads(desk.actor, run.vault, shown).with_only_columns(Lead.id)
    return session.scalar(stmt.where(~blocked).limit(1))


def _call(
    session: Session,
    run: Run,
    office: Office,
    desk: Desk,
    lead_id: int,
    at: datetime,
    rng: random.Random,
    touched: set[Lead],
) -> datetime:
    """One call and its outcome; returns when the agent is free again."""
    lead = session.get(Lead, lead_id)
    temper = replies.temper_of(run.seed, lead)
    booked = desk.booked == lead_id
    if booked:
        desk.booked = None
    dialled = desk.line.dial(lead_id, at, temper.reachable, temper.invalid, rng, booked)
    if isinstance(dialled, str):  # refused by a calling rule: on to the next lead
        return at + timedelta(seconds=20)
    desk.calls_left -= 1
    memory = run.remember(lead_id)
    memory.tried(at.astimezone(office.zone).date(), dialled.answered_at is not None)
    hour = dialled.rang_until.astimezone(office.zone).hour
    if booked:
        reply = replies.appointment(lead.stage, rng)
    else:
        reply = replies.after_call(lead.stage, temper, memory, dialled.end_reason, hour, rng)
    product = None
    if reply.apply and (product := loans.choose(session, run, desk.actor, lead)) is None:
        reply = replies.no_product(rng)
    if dialled.answered_at is None:
        ended = dialled.rang_until
        free = ended + timedelta(seconds=rng.uniform(5, 20))
    else:
        ended = desk.line.hang_up(dialled, reply.talk_seconds)
        free = ended + timedelta(seconds=rng.uniform(30, 120))
    desk.line.save(replies.outcome(dialled.call_id, reply, ended, free, rng), free)
    if product is not None:
        loans.apply(session, run, desk.actor, lead, product, free)
    touched.add(lead)
    again = lead.next_followup_at
    # an earlier promise may still be open on a lead that has just applied: off the floor's list
    worked = lead.stage in WORKED_STAGES and not _neglected(run, lead, desk.actor)
    if again is not None and again < desk.end and worked:
        heapq.heappush(desk.queue, (again, lead_id))
    return free


def _lunch(run: Run, desk: Desk, at: datetime) -> None:
    """Lunch from `at`, when the last call before it is done."""
    for state, moment in (("break", at), ("available", desk.lunch[1])):
        if moment <= run.now:
            desk.line.enter(state, moment)


def _leave(run: Run, desk: Desk, at: datetime) -> None:
    """Off for the day at its end (or after the call that ran past it); a desk still staffed at
    the world's present stays as it is."""
    off = max(desk.end, at)
    if off <= run.now:
        desk.line.enter("offline", off)
