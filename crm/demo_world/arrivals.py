"""Leads arriving at an org over a day, from each channel, and their insert through the import's
path (`lead_columns`, scored by `insert_scored_leads`) hour by hour as the simulated day goes, so
no agent ever claims a lead before it exists."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm.compliance.pii import PiiVault
from crm.demo_world.options import CHANNELS, ELSEWHERE_SHARE, Channel
from crm.demo_world.people import PhoneBook, draft
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.service import ensure_sources
from crm.scoring.service import insert_scored_leads

# web forms arrive around the clock, most in the evening, when people browse on their phones
_FORM_HOURS = (0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.0, 1.0, 1.1, 1.2, 1.0)
_FORM_HOURS += (0.9, 0.9, 1.0, 1.0, 1.1, 1.4, 1.8, 2.0, 1.6, 0.8)
# bought lists come in as a sheet on Mondays and Thursdays, the rest of the week's worth
_LIST_DAYS = (0, 3)
_LIST_AT = time(10, 0)
# fewer people fill in forms at the weekend; the business grows over the months
_WEEKDAY = (1.1, 1.05, 1.0, 1.0, 0.95, 0.75, 0.65)


@dataclass(frozen=True)
class OrgMarket:
    org_id: int
    cities: tuple[str, ...]
    per_day: float  # leads on an average weekday
    hq: bool


@dataclass
class Arrivals:
    """One org's leads of one day, inserted up to a moment when asked."""

    org_id: int
    due: list[tuple[datetime, LeadDraft]]
    inserted: int = 0
    sources: set[str] = field(default_factory=set)

    def until(self, session: Session, vault: PiiVault, cut: datetime) -> int:
        """Insert every lead that arrived before `cut`; returns how many."""
        batch = []
        while self.inserted < len(self.due) and self.due[self.inserted][0] < cut:
            at, lead = self.due[self.inserted]
            batch.append(lead_columns(vault, lead, self.org_id, None, at))
            self.inserted += 1
        if batch:
            insert_scored_leads(session, self.org_id, batch, batch[-1]["created_at"], {})
            new = {row["source"] for row in batch} - self.sources
            if new:
                ensure_sources(session, self.org_id, new)
                self.sources |= new
        return len(batch)


def arrivals(
    market: OrgMarket, day: date, zone: ZoneInfo, growth: float, phones: PhoneBook, seed: int
) -> Arrivals:
    """The org's leads of `day` in arrival order; `growth` scales the volume (the business
    grows over the history)."""
    rng = random.Random(f"{seed}:arrivals:{market.org_id}:{day.isoformat()}")
    volume = market.per_day * growth * _WEEKDAY[day.weekday()]
    due = []
    for channel in CHANNELS:
        for at in _moments(rng, channel, volume, day, zone):
            city = _city(rng, market)
            avoid = frozenset(market.cities)
            due.append((at, draft(rng, channel, phones.number(city, avoid), city, at)))
    due.sort(key=lambda item: item[0])
    return Arrivals(market.org_id, due)


def _moments(
    rng: random.Random, channel: Channel, volume: float, day: date, zone: ZoneInfo
) -> Iterator[datetime]:
    midnight = datetime.combine(day, time(), zone)
    if channel.kind == "purchased":
        if day.weekday() in _LIST_DAYS:
            sheet = datetime.combine(day, _LIST_AT, zone)
            for _ in range(_count(rng, volume * channel.weight * 7 / len(_LIST_DAYS))):
                yield sheet + timedelta(seconds=rng.uniform(0, 60))
        return
    for _ in range(_count(rng, volume * channel.weight)):
        hour = rng.choices(range(24), _FORM_HOURS)[0]
        yield midnight + timedelta(hours=hour, seconds=rng.uniform(0, 3600))


def _count(rng: random.Random, mean: float) -> int:
    """A whole number of leads around `mean` (a day's count varies, and a small org's
    fractions add up over the days instead of rounding to none)."""
    return max(0, int(rng.gauss(mean, mean**0.5 * 0.5) + rng.random()))


def _city(rng: random.Random, market: OrgMarket) -> str | None:
    if market.hq and rng.random() < ELSEWHERE_SHARE:
        return None
    return rng.choice(market.cities)
