"""What a lead of the demo world is like, and what comes of a call to it: the callee's answer
and the outcome the agent records, when to call again, or why the lead is lost.

A lead's keenness and reachability are drawn from what the lead is (its arrival and masked
number, fixed by the seed), so they do not depend on which agent calls first; keenness leans on
its qualifications, which is what makes a higher score worth calling first."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crm.demo_world.options import CHANNEL_BY_NAME, LOST_REASONS, draw
from crm.demo_world.people import quality_of
from crm.leads.models import Lead
from dialer.schemas import DispositionIn

# a web lead nobody reached on this many days is given up; until then it is tried up to the
# daily cap of calls (3), an hour or two apart, while the afternoon leaves time for the next try.
# A number off a bought list gets two tries on one day: the list has plenty more.
UNREACHED_DAYS, TRIES_A_DAY, LAST_RETRY_HOUR = 3, 3, 17
LIST_TRIES = 2
# how keen a lead must be to go on at each step (keenness is 0-1, about 0.5 on average): about
# one web lead in six ends up applying, one reached in four is qualified (助贷 web forms are
# people asking for a loan now); bought lists hardly ever
KEEN_TO_CALL_BACK, KEEN_AFTER_CALLBACK, KEEN_TO_QUALIFY, KEEN_TO_APPLY = 0.44, 0.52, 0.6, 0.66
NOTES = {
    "interested": (
        "客户有明确资金需求，已加微信发资料清单",
        "客户对额度和利率满意，约时间面谈",
        "客户有公积金和社保，想尽快办理",
    ),
    "callback": (
        "客户在开会，约改天再联系",
        "客户需要和家人商量，过两天回电",
        "客户在比较几家机构的方案，约再沟通",
    ),
    "applied": ("资料已收齐，提交进件", "客户已确认产品和费用，提交进件"),
    "暂无贷款需求": ("客户表示暂时不需要",),
    "利率或费用不接受": ("客户嫌利率高，不考虑",),
    "已在其他机构办理": ("客户已在别家办好了",),
}


@dataclass
class LeadMemory:
    """What the floor remembers of a lead between calls (the database holds the rest)."""

    connects: int = 0
    callbacks: int = 0
    tries_today: int = 0
    days_unreached: int = 0
    last_try: date | None = None

    def tried(self, day: date, answered: bool) -> None:
        if self.last_try != day:
            self.tries_today = 0
            if not answered:
                self.days_unreached += 1
        self.last_try, self.tries_today = day, self.tries_today + 1
        if answered:
            self.connects, self.days_unreached = self.connects + 1, 0


@dataclass(frozen=True, slots=True)
class Temper:
    keen: float  # 0-1: how likely to go ahead
    reachable: float  # scales the carrier's answer rate
    invalid: bool  # an empty or wrong number (空号)
    bought: bool = False  # off a bought list


def temper_of(seed: int, lead: Lead) -> Temper:
    key = (lead.created_at.isoformat(), lead.phone_masked)
    channel = CHANNEL_BY_NAME.get(lead.source)
    bought = channel is not None and channel.kind == "purchased"
    keen = 0.55 * draw(seed, "keen", *key) + 0.45 * quality_of(lead.qualifications or {})
    reach = draw(seed, "reach", *key)
    return Temper(
        keen=keen * (0.7 if bought else 1.0),
        reachable=(0.3 + 0.5 * reach) if bought else (0.55 + 0.55 * reach),
        invalid=draw(seed, "invalid", *key) < (0.12 if bought else 0.02),
        bought=bought,
    )


@dataclass(frozen=True, slots=True)
class Reply:
    """The outcome of one call: the disposition and what the agent sets with it."""

    disposition: str
    talk_seconds: float = 0.0
    stage: str | None = None
    reason: str | None = None
    call_again_in: timedelta | None = None
    apply: bool = False  # the lead agrees to apply: the agent matches a product and submits


def after_call(
    stage: str,
    temper: Temper,
    memory: LeadMemory,
    end_reason: str | None,
    hour: int,
    rng: random.Random,
) -> Reply:
    """The outcome of a call answered (`end_reason` None) or not, at `hour` (local)."""
    if end_reason is None:
        return answered(stage, temper, memory, rng)
    return unanswered(stage, end_reason, memory, hour, rng, temper.bought)


def outcome(
    call_id: int, reply: Reply, ended: datetime, saved_at: datetime, rng: random.Random
) -> DispositionIn:
    """What the agent saves at `saved_at` for a call that ended at `ended`."""
    again = ended + reply.call_again_in if reply.call_again_in else None
    if again is not None and again <= saved_at:
        again = saved_at + timedelta(minutes=5)
    return DispositionIn(
        call_id=call_id,
        disposition=reply.disposition,
        note=note(reply, rng),
        next_followup_at=again,
        stage=reply.stage,
        reason=reply.reason,
    )


def answered(stage: str, temper: Temper, memory: LeadMemory, rng: random.Random) -> Reply:
    """A conversation with the lead (memory counts this call already). How far a lead goes is
    set by its keenness; a callback is asked for once at each stage, then the lead decides."""
    keen, talks = temper.keen, memory.connects
    if rng.random() < 0.015:
        return _lost("do_not_call", rng, rng.uniform(15, 40), "do_not_call")
    if stage == "lost":  # a lead back from the pool (公海再营销): reopened, or still not
        if keen > KEEN_TO_QUALIFY:
            return Reply("interested", rng.uniform(120, 300), "contacted", None, _days(rng, 1, 3))
        return Reply("not_interested", rng.uniform(15, 60))
    if stage == "qualified":
        if keen > KEEN_TO_APPLY:
            return Reply("applied", rng.uniform(300, 720), apply=True)
        if memory.callbacks < 2:
            memory.callbacks += 1
            return Reply("callback", rng.uniform(90, 240), call_again_in=_days(rng, 1, 3))
        return _lost("not_interested", rng, rng.uniform(40, 120))
    if keen > KEEN_TO_QUALIFY or (talks > 1 and keen > KEEN_AFTER_CALLBACK):
        return Reply("interested", rng.uniform(180, 480), "qualified", None, _days(rng, 1, 2))
    if keen > KEEN_TO_CALL_BACK and talks == 1:
        memory.callbacks += 1
        return Reply("callback", rng.uniform(60, 200), call_again_in=_days(rng, 1, 4))
    return _lost("not_interested", rng, rng.uniform(20, 90))


def appointment(stage: str, rng: random.Random) -> Reply:
    """The booked call of a lead come to apply: qualified on it if not yet, and applying."""
    qualify = "qualified" if stage == "contacted" else None
    return Reply("applied", rng.uniform(300, 720), qualify, apply=True)


def unanswered(
    stage: str,
    end_reason: str,
    memory: LeadMemory,
    hour: int,
    rng: random.Random,
    bought: bool = False,
) -> Reply:
    """The outcome of a call nobody answered (memory counts this attempt already)."""
    if end_reason == "invalid_number":
        return _lost("invalid_number", rng, 0.0, "invalid_number")
    disposition = "busy" if end_reason == "busy" else "no_answer"
    if stage == "lost":  # a lost lead tried once more from the pool: not chased again
        return Reply(disposition)
    tries, days = (LIST_TRIES, 1) if bought else (TRIES_A_DAY, UNREACHED_DAYS)
    if memory.tries_today < tries and hour < LAST_RETRY_HOUR:
        return Reply(disposition, call_again_in=timedelta(hours=rng.uniform(1, 2.5)))
    if memory.days_unreached >= days:
        return _lost(disposition, rng, 0.0, "unreachable")
    return Reply(disposition, call_again_in=_days(rng, 1, 1))


def note(reply: Reply, rng: random.Random) -> str | None:
    """What the agent types after a conversation (an unanswered call gets the outcome's label)."""
    said = NOTES.get(reply.reason or reply.disposition) if reply.talk_seconds else None
    return rng.choice(said) if said else None


def no_product(rng: random.Random) -> Reply:
    """Keen, but no product of the org takes the lead's qualifications."""
    return _lost("interested", rng, rng.uniform(200, 400), "no_product")


def _lost(disposition: str, rng: random.Random, talk: float, why: str | None = None) -> Reply:
    reason = rng.choice(LOST_REASONS[why or disposition])
    return Reply(disposition, talk, "lost", reason)


def _days(rng: random.Random, low: int, high: int) -> timedelta:
    """Some day `low` to `high` days ahead, at a working hour (from the call's end)."""
    return timedelta(days=rng.randint(low, high), hours=rng.uniform(-3, 3))
