"""What the demo world is made of: its size and clock, the channels leads come from with what
they cost, each org's share of them and the caller IDs its floor dials from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from crm.demo import ORGS


@dataclass(frozen=True)
class WorldOptions:
    """`days` of history up to `now` (default: the moment it is built), `leads_per_day` across
    the three orgs on an average weekday of late (the business grew into it over the history).
    The same seed and `now` give the same world."""

    days: int = 90
    leads_per_day: int = 18
    seed: int = 2026
    now: datetime | None = None

    def __post_init__(self) -> None:
        if self.days < 1 or self.leads_per_day < 1:
            raise ValueError("a world needs at least one day and one lead a day")


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    cost_per_lead: Decimal  # what a lead from it costs the org (channel ROI)
    weight: float  # share of an org's arrivals
    quality: float  # 0-1: how well qualified its leads are, on average
    with_id: float  # share of its leads that come with an ID number
    with_name: float


# The demo's sources (crm/demo.py SOURCES), priced as Chinese brokers buy them: search ads dear
# and good, feeds cheaper and thinner, referrals the best (the referrer's reward is their cost),
# bought lists cheap, nameless and mostly useless.
CHANNELS = (
    Channel("百度推广", "search", Decimal("58.00"), 0.27, 0.55, 0.6, 0.95),
    Channel("抖音信息流", "feed", Decimal("36.00"), 0.25, 0.42, 0.45, 0.9),
    Channel("微信朋友圈", "social", Decimal("42.00"), 0.18, 0.5, 0.5, 0.95),
    Channel("老客户转介绍", "referral", Decimal("80.00"), 0.08, 0.75, 0.85, 1.0),
    Channel("采购名单", "purchased", Decimal("3.50"), 0.22, 0.28, 0.05, 0.5),
)
CHANNEL_BY_NAME = {c.name: c for c in CHANNELS}

# org name → (share of the day's leads, caller IDs of its floor: local landlines, as carriers
# require an outbound number of the office's own area)
FLOORS = {
    ORGS[0][0]: (0.44, ("01064880101", "01064880102", "01064880103", "01064880104")),
    ORGS[1][0]: (0.3, ("075586330201", "075586330202")),
    ORGS[2][0]: (0.26, ("02885120301", "02885120302")),
}
# leads of HQ from cities none of the orgs serves (national ads reach everywhere)
ELSEWHERE_SHARE = 0.03

LOST_REASONS = {
    "not_interested": ("暂无贷款需求", "已在其他机构办理", "利率或费用不接受", "额度达不到预期"),
    "unreachable": ("多次联系不上",),
    "invalid_number": ("空号或错号",),
    "do_not_call": ("客户要求不再来电",),
    "no_product": ("资质不符，无可匹配产品",),
}


def draw(seed: int, *key: object) -> float:
    """A uniform number in [0, 1) fixed by the seed and `key`: what a lead is like (how keen,
    how reachable) is drawn from what it is, not from the order the world met it in."""
    digest = hashlib.blake2b(repr((seed, *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
