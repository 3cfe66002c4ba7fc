"""The scoring rules: each factor's points and reason, the 0-100 scale, per-org weights."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from pydantic import ValidationError

from crm.orgs.schemas import OrgSettings
from crm.scoring.rules import Context, LeadFacts, Scorer, SourceRates, breakdown
from crm.scoring.settings import FACTORS, ScoringSettings

DEFAULTS = ScoringSettings()
STRONG = LeadFacts(
    source="老客户转介绍",
    carrier="中国移动",
    phone_city="深圳",
    city="深圳",
    has_name=True,
    has_id_number=True,
    birth_year=1990,
    amount_wanted=Decimal("100000"),
    term_months=24,
    purpose="经营周转",
    qualifications={
        "monthly_income": "20000",
        "provident_fund": True,
        "social_security": True,
        "house": "owned",
    },
)
WEAK = LeadFacts(source="购买名单", is_mobile=False, phone_city="哈尔滨")
RATES = SourceRates({"老客户转介绍": (400, 120), "购买名单": (4000, 40)}, org_rate=0.05)


def context(**overrides) -> Context:
    fields = {"year": 2026, "org_cities": frozenset({"深圳"}), "sources": RATES}
    return Context(**(fields | overrides))


def score_lead(facts: LeadFacts, ctx: Context, settings: ScoringSettings, **surroundings):
    return Scorer(settings, ctx).score(replace(facts, **surroundings))


def points(score, factor: str) -> int:
    return next(f.points for f in score.factors if f.factor == factor)


def detail(score, factor: str) -> str:
    return next(f.detail for f in score.factors if f.factor == factor)


def test_a_strong_lead_scores_high_and_a_weak_one_low():
    strong = score_lead(STRONG, context(), DEFAULTS, recent_followups=2, recent_answered_calls=1)
    weak = score_lead(WEAK, context(), DEFAULTS, other_orgs=3)
    assert strong.value >= 90
    assert weak.value <= 15
    # with the default weights (sum 100) the points add up to the score itself
    assert sum(f.points for f in strong.factors) == strong.value


def test_the_breakdown_names_every_factor_with_its_reason():
    score = score_lead(STRONG, context(), DEFAULTS)
    rows = breakdown(score.stored())
    assert [r["factor"] for r in rows] == list(FACTORS)
    assert rows[3] == {
        "factor": "qualifications",
        "label": "资质",
        "points": 22,
        "max_points": 25,
        "detail": "公积金、社保、房产",
    }
    assert detail(score, "age") == "36岁"
    assert detail(score, "income") == "需求100000元，约为年收入的0.4倍"


def test_region_counts_the_phone_city_then_the_stated_city():
    assert points(score_lead(STRONG, context(), DEFAULTS), "region") == 10
    elsewhere = LeadFacts(source="x", phone_city="广州", city="深圳")
    assert points(score_lead(elsewhere, context(), DEFAULTS), "region") == 5
    assert points(score_lead(WEAK, context(), DEFAULTS), "region") == 0
    # an org that lists no cities serves everywhere
    assert points(score_lead(WEAK, context(org_cities=frozenset()), DEFAULTS), "region") == 10


def test_source_quality_is_smoothed_towards_the_org_average():
    good = score_lead(STRONG, context(), DEFAULTS)
    bad = score_lead(WEAK, context(), DEFAULTS)
    assert points(good, "source") == 13 and points(bad, "source") == 3
    assert detail(good, "source") == "渠道老客户转介绍：400条中120条转化，平滑后27.2%，机构平均5.0%"
    # three lucky leads out of three do not make a source look like the best one
    lucky = SourceRates({"新渠道": (3, 3), "老渠道": (997, 47)}, org_rate=0.05)
    facts = LeadFacts(source="新渠道")
    assert points(score_lead(facts, context(sources=lucky), DEFAULTS), "source") == 10
    # no conversions recorded yet: every source is average, half the points
    unknown = score_lead(facts, context(sources=SourceRates()), DEFAULTS)
    assert points(unknown, "source") == 8
    assert "尚无转化数据" in detail(unknown, "source")


def test_recent_engagement_raises_the_score():
    quiet = score_lead(WEAK, context(), DEFAULTS)
    busy = score_lead(WEAK, context(), DEFAULTS, recent_followups=1, recent_answered_calls=1)
    assert points(quiet, "engagement") == 0
    assert points(busy, "engagement") == 8
    assert busy.value > quiet.value


def test_a_lost_leads_past_talks_do_not_outrank_a_fresh_lead():
    """The talks with a lead that said no are no sign of interest: recycled to the pool, it
    must not come before the fresh leads on them (claim-next would keep handing it back)."""
    fresh = score_lead(STRONG, context(), DEFAULTS)
    talks = {"recent_followups": 3, "recent_answered_calls": 2}
    scorer = Scorer(DEFAULTS, context())  # one scorer: its cache must tell the two apart
    lost = scorer.score(replace(STRONG, stage="lost", **talks))
    rejected = scorer.score(replace(STRONG, stage="rejected", **talks))
    reopened = score_lead(STRONG, context(), DEFAULTS, stage="contacted", **talks)
    assert points(lost, "engagement") == points(rejected, "engagement") == 0
    assert lost.value == rejected.value == fresh.value
    assert detail(lost, "engagement") == "已流失，近期跟进3次不加分"
    assert detail(rejected, "engagement") == "已被拒，近期跟进3次不加分"
    assert points(reopened, "engagement") == 10  # talked back into the funnel: it counts again


def test_the_same_number_in_other_orgs_lowers_the_score():
    scores = [score_lead(STRONG, context(), DEFAULTS, other_orgs=n) for n in (0, 1, 2)]
    assert [points(s, "duplicates") for s in scores] == [5, 2, 0]
    assert scores[0].value > scores[1].value > scores[2].value
    assert detail(scores[2], "duplicates") == "另有2家机构有此号码"


@pytest.mark.parametrize(
    ("birth_year", "expected"), [(1990, 8), (1973, 4), (2003, 4), (1950, 0), (None, 0)]
)
def test_age_bands(birth_year, expected):
    facts = LeadFacts(source="x", birth_year=birth_year)
    assert points(score_lead(facts, context(), DEFAULTS), "age") == expected


@pytest.mark.parametrize(
    ("income", "amount", "expected"),
    [("10000", "100000", 12), ("10000", "300000", 6), ("10000", "500000", 0), (None, "1", 0)],
)
def test_income_against_the_amount_wanted(income, amount, expected):
    facts = LeadFacts(
        source="x", amount_wanted=Decimal(amount), qualifications={"monthly_income": income}
    )
    assert points(score_lead(facts, context(), DEFAULTS), "income") == expected


def test_cached_results_never_leak_between_leads_with_other_inputs():
    scorer = Scorer(DEFAULTS, context())
    income_only = LeadFacts(source="x", qualifications={"monthly_income": "9000"})
    neither = LeadFacts(source="x")
    for facts, expected in ((income_only, 6), (neither, 0), (income_only, 6)):
        assert points(scorer.score(facts), "income") == expected
    assert detail(scorer.score(income_only), "income") == "有月收入，需求金额未知"


def test_an_orgs_weights_change_the_score_and_a_zero_weight_hides_the_factor():
    settings = ScoringSettings.model_validate(
        {"weights": {"qualifications": 0, "duplicates": 50}}, strict=False
    )
    score = score_lead(STRONG, context(), settings, other_orgs=2)
    assert "qualifications" not in [f.factor for f in score.factors]
    assert score.value < score_lead(STRONG, context(), DEFAULTS, other_orgs=2).value
    assert 0 <= score.value <= 100


def test_org_settings_carry_scoring_and_refuse_nonsense():
    assert OrgSettings().scoring == DEFAULTS
    stored = OrgSettings.model_validate({"scoring": {"engagement_days": 30}}, strict=False)
    assert stored.scoring.engagement_days == 30
    for bad in (
        {"weights": dict.fromkeys(DEFAULTS.weights.model_dump(), 0)},
        {"best_age": [30, 60], "fair_age": [22, 55]},
        {"weights": {"phone": -1}},
        {"conversion_stage": "lost"},
    ):
        with pytest.raises(ValidationError):
            OrgSettings.model_validate({"scoring": bad}, strict=False)
