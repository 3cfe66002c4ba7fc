"""Who the demo's borrowers are: mobile numbers from each city's own number ranges (号段), names,
valid ID numbers, and qualifications that follow how good their channel's leads are."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crm.demo import AMOUNTS, GIVEN, MOBILE_PREFIXES, PURPOSES, SURNAMES
from crm.demo_world.options import Channel
from crm.errors import DomainError
from crm.leads.idcard import check_character
from crm.leads.intake import LeadDraft
from crm.leads.phone import normalize_phone

# a district of each demo city, for the first six digits of an ID number issued there
REGION_CODES = {
    "北京": "110105",
    "上海": "310115",
    "广州": "440106",
    "深圳": "440305",
    "成都": "510107",
}
ELSEWHERE_REGION = "330106"
# a range (号段) holds 10,000 numbers; a city gets more ranges once a third of its are taken
RANGE_SIZE = 10_000
_FILL = 3
CONSENT_TEXT_VERSION = "2026-01"


class PhoneBook:
    """Unused mobile numbers whose 号码归属地 is a given city. A city's ranges come in blocks of
    ten (1380100-1380109 share a city), found by probing random ranges once per block."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._ranges: dict[str | None, list[str]] = {}
        self._used: set[int] = set()
        self._counts: dict[str | None, int] = {}

    def number(self, city: str | None, avoid: frozenset[str] = frozenset()) -> str:
        """A fresh number of `city`; None: of any city not in `avoid`."""
        ranges = self._ranges.setdefault(city, [])
        if len(ranges) * RANGE_SIZE < _FILL * (self._counts.get(city, 0) + 1):
            ranges.extend(self._block(city, avoid))
        self._counts[city] = self._counts.get(city, 0) + 1
        while True:
            number = self._rng.choice(ranges) + f"{self._rng.randrange(RANGE_SIZE):04d}"
            if int(number) not in self._used:
                self._used.add(int(number))
                return number

    def _block(self, city: str | None, avoid: frozenset[str]) -> list[str]:
        while True:
            head = self._rng.choice(MOBILE_PREFIXES) + f"{self._rng.randrange(1000):03d}"
            found = _city_of(head + "0")
            if found is not None and (found == city or (city is None and found not in avoid)):
                return [head + str(n) for n in range(10) if _city_of(head + str(n)) == found]


def _city_of(range_prefix: str) -> str | None:
    try:
        return normalize_phone(range_prefix + "0000").city
    except DomainError:
        return None


def id_number(rng: random.Random, city: str | None, today: date) -> str:
    """A valid resident ID number of someone 22 to 58 years old, issued in `city`."""
    born = date(today.year - rng.randint(22, 58), rng.randint(1, 12), rng.randint(1, 28))
    first17 = (
        REGION_CODES.get(city or "", ELSEWHERE_REGION)
        + born.strftime("%Y%m%d")
        + f"{rng.randrange(1000):03d}"
    )
    return first17 + check_character(first17)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))


def qualifications(rng: random.Random, quality: float) -> dict[str, Any]:
    """资质 as a lead form or an agent records them; a better lead has more of them."""

    def good(share: float) -> bool:
        return rng.random() < share

    employment = rng.choices(
        ("salaried", "self_employed", "business_owner"), (0.7, 0.15 + quality * 0.1, 0.15)
    )[0]
    income = rng.choice((4000, 5500, 6500, 8000, 10000, 12000, 15000, 20000, 30000, 45000))
    income = int(income * (0.6 + quality))
    facts: dict[str, Any] = {
        "monthly_income": str(income - income % 500),
        "employment": employment,
        "social_security": good(0.35 + quality * 0.6),
        "provident_fund": good(quality * 0.8),
        "house": rng.choices(("none", "owned", "mortgaged"), (1.2 - quality, quality, quality))[0],
        "car": rng.choices(("none", "owned", "mortgaged"), (1.4 - quality, quality, 0.3))[0],
        "insurance_policy": good(0.15 + quality * 0.4),
        "credit_status": rng.choices(
            ("good", "minor_overdue", "serious_overdue", "no_record"),
            (0.4 + quality, 0.35 - quality * 0.3, 0.12 - quality * 0.1, 0.15),
        )[0],
        "credit_queries_3m": rng.randint(0, int(9 - quality * 7)),
    }
    if facts["social_security"]:
        facts["social_security_months"] = rng.randint(3, 120)
    if facts["provident_fund"]:
        facts["provident_fund_months"] = rng.randint(3, 120)
    if employment != "salaried":
        facts["business_licence"] = good(0.5 + quality * 0.4)
        if facts["business_licence"]:
            facts["business_licence_months"] = rng.randint(6, 150)
    return facts


def draft(
    rng: random.Random,
    channel: Channel,
    phone: str,
    city: str | None,
    at: datetime,
) -> LeadDraft:
    """One arriving lead of `channel`, as its form or list delivers it."""
    quality = min(1.0, max(0.0, rng.gauss(channel.quality, 0.2)))
    facts = qualifications(rng, quality)
    wanted = Decimal(rng.choice(AMOUNTS[: 3 + round(quality * 3)]))
    return LeadDraft(
        phone=phone,
        source=channel.name,
        name=name(rng) if rng.random() < channel.with_name else None,
        id_number=id_number(rng, city, at.date()) if rng.random() < channel.with_id else None,
        amount_wanted=wanted,
        term_months=rng.choice((12, 12, 24, 36)),
        purpose=rng.choice(PURPOSES),
        qualifications=facts,
        consent_given_at=at,
        consent_method="purchased_list" if channel.kind == "purchased" else "web_form",
        consent_text_version=CONSENT_TEXT_VERSION,
    )


def quality_of(facts: dict[str, Any]) -> float:
    """0-1, what a lender would make of the lead's qualifications: the world's borrowers convert
    as their 资质 suggest, so a high score is worth calling first."""
    points = sum(
        (
            facts.get("provident_fund") is True,
            facts.get("social_security") is True,
            facts.get("house") in ("owned", "mortgaged"),
            facts.get("car") == "owned",
            facts.get("insurance_policy") is True,
            facts.get("credit_status") in ("good", "no_record"),
            int(facts.get("monthly_income") or 0) >= 10000,
        )
    )
    return points / 7
