"""Product matching: one lead against a whole product shelf, per call, in plain Python.

    .venv/bin/python -m bench.matching [--products 500] [--applicants 3000] [--seed 1]

No database: generates `--products` products with varied rules (seeded) and builds each one
once (rules validated, their texts written), as the service does when it loads the shelf, then
times `match_products` per applicant for three kinds of lead: `mixed` (what an imported list
looks like: most facts known, some missing), `complete` (every qualification answered) and
`sparse` (a fresh lead with only a phone, a city and a source: nearly every rule of every
product becomes a question for the agent). Per call: p50/p90/p99/max in ms, calls/s, and
product checks (matches) per second; also how many products came out eligible and the reasons
per product, to show the work was real. The goal is p99 < 20 ms for 500 products.

A call allocates a few thousand small objects (a Match per product, its reasons), so the
collector runs during calls, and a full collection walks the whole heap: that, not the rules, is
the tail. Each kind runs twice: with the collector as a web process has it (`serving`: what
exists once the shelf is built is frozen and the thresholds raised, crm.gc_tuning.for_serving,
as wsgi.py does) and with CPython's defaults, for a script or worker that never settled it.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from bench import common
from crm.gc_tuning import for_serving
from crm.loans.eligibility import Applicant, ProductRules, ProductTerms, match_products

CITIES = [
    "北京", "上海", "广州", "深圳", "成都", "重庆", "杭州", "武汉", "西安", "南京", "天津", "苏州",
    "长沙", "郑州", "东莞", "青岛", "沈阳", "宁波", "昆明", "合肥", "佛山", "福州", "无锡", "厦门",
    "哈尔滨", "济南", "温州", "南宁", "长春", "泉州",
]  # fmt: skip
SOURCES = ["官网表单", "百度竞价", "信息流-抖音", "微信朋友圈", "短信营销", "合作机构", "购买名单"]
EMPLOYMENT = ["salaried", "self_employed", "business_owner", "other"]
CREDIT = ["good", "minor_overdue", "serious_overdue", "no_record"]
ASSETS = ["none", "owned", "mortgaged"]
AMOUNTS = [Decimal(n) for n in (5_000, 10_000, 30_000, 50_000, 100_000, 200_000, 500_000)]
TERMS = [3, 6, 12, 24, 36, 60]


def generate_rules(rng: random.Random) -> dict[str, Any]:
    """One product's rules: each rule present with roughly the share lenders' sheets show."""
    rules: dict[str, Any] = {}
    if rng.random() < 0.8:
        low = rng.choice([18, 20, 22, 25])
        rules.update(age_min=low, age_max=rng.randint(max(low, 45), 65))
    if rng.random() < 0.6:  # regional lenders; the rest serve the whole country
        rules["cities"] = rng.sample(CITIES, rng.randint(1, 25))
    if rng.random() < 0.6:
        rules["min_monthly_income"] = Decimal(rng.choice([3000, 4000, 5000, 8000, 10000]))
    if rng.random() < 0.4:
        rules["employment_in"] = rng.sample(EMPLOYMENT, rng.randint(1, 3))
    for rule, share in (("min_social_security_months", 0.35), ("min_provident_fund_months", 0.3)):
        if rng.random() < share:
            rules[rule] = rng.choice([1, 6, 12, 24])
    for rule, share in (
        ("requires_house", 0.15),
        ("requires_car", 0.1),
        ("requires_insurance_policy", 0.1),
    ):
        rules[rule] = rng.random() < share
    if rng.random() < 0.15:  # business loans (经营贷)
        rules.update(requires_business_licence=True, min_business_licence_months=12)
    if rng.random() < 0.7:
        rules["credit_status_in"] = rng.choice([["good"], ["good", "no_record"], CREDIT[:3]])
    if rng.random() < 0.5:
        rules["max_credit_queries_3m"] = rng.choice([3, 4, 6, 8, 10])
    if rng.random() < 0.3:
        rules["excluded_sources"] = rng.sample(SOURCES, rng.randint(1, 2))
    return rules


def generate_products(rng: random.Random, n: int) -> list[ProductTerms]:
    products = []
    for product_id in range(1, n + 1):
        low = rng.choice(AMOUNTS[:4])
        high = rng.choice([a for a in AMOUNTS if a > low])
        term_low = rng.choice(TERMS[:3])
        products.append(
            ProductTerms(
                product_id=product_id,
                name=f"产品{product_id:04d}",
                lender_name=f"资金方{product_id % 40:02d}",
                min_amount=low,
                max_amount=high,
                min_term_months=term_low,
                max_term_months=rng.choice([t for t in TERMS if t > term_low]),
                apr=Decimal(rng.randint(700, 2400)) / 10_000,
                channel_fee_rate=Decimal(rng.randint(5, 40)) / 1_000,
                rules=ProductRules(**generate_rules(rng)),
            )
        )
    return products


def _known(rng: random.Random, share: float, value: Any) -> Any:
    return value if rng.random() < share else None


def applicant(rng: random.Random, known: float) -> Applicant:
    """A lead whose facts are each known with probability `known`."""
    has_ss, has_pf, has_licence = (rng.random() < p for p in (0.5, 0.3, 0.15))
    quals = {
        "monthly_income": str(rng.randint(25, 300) * 100),
        "employment": rng.choice(EMPLOYMENT),
        "social_security": has_ss,
        "social_security_months": rng.randint(1, 120) if has_ss else 0,
        "provident_fund": has_pf,
        "provident_fund_months": rng.randint(1, 120) if has_pf else 0,
        "house": rng.choice(ASSETS),
        "car": rng.choice(ASSETS),
        "insurance_policy": rng.random() < 0.2,
        "business_licence": has_licence,
        "business_licence_months": rng.randint(1, 120) if has_licence else 0,
        "credit_status": rng.choices(CREDIT, weights=[6, 2, 1, 1])[0],
        "credit_queries_3m": rng.randint(0, 12),
    }
    quals = {k: v for k, v in quals.items() if _known(rng, known, v) is not None}
    return Applicant(
        age=_known(rng, known, rng.randint(19, 65)),
        city=rng.choice(CITIES),
        source=rng.choice(SOURCES),
        amount_wanted=_known(rng, known, rng.choice(AMOUNTS)),
        term_months=_known(rng, known, rng.choice(TERMS)),
        qualifications=quals,
    )


KINDS: dict[str, Callable[[random.Random], Applicant]] = {
    "mixed": lambda rng: applicant(rng, 0.8),
    "complete": lambda rng: applicant(rng, 1.0),
    "sparse": lambda rng: applicant(rng, 0.0),
}


def time_calls(products: Sequence[ProductTerms], applicants: Sequence[Applicant]) -> list[Any]:
    """Each applicant matched once: [p50, p90, p99, max ms, calls/s, matches/s, eligible,
    reasons per product]."""
    seconds, eligible, reasons = [], 0, 0
    for who in applicants:
        start = time.perf_counter()
        matches = match_products(who, products)
        seconds.append(time.perf_counter() - start)
        eligible += sum(m.eligible for m in matches)
        reasons += sum(len(m.exclusions) + len(m.to_confirm) for m in matches)
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    total = sum(seconds)
    return [
        cuts[49] * 1000,
        cuts[89] * 1000,
        cuts[98] * 1000,
        max(seconds) * 1000,
        len(seconds) / total,
        len(seconds) * len(products) / total,
        eligible / len(applicants),
        reasons / (len(applicants) * len(products)),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.matching")
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--applicants", type=int, default=3_000, help="per kind of lead")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"machine: {common.machine_note()}")
    rng = random.Random(args.seed)
    start = time.perf_counter()
    products = generate_products(rng, args.products)
    built = time.perf_counter() - start
    print(f"built {args.products:,} products (rules validated once) in {built * 1000:.0f} ms")
    leads = {kind: [make(rng) for _ in range(args.applicants)] for kind, make in KINDS.items()}
    rows = []
    for collector in ("default", "serving"):
        if collector == "serving":
            for_serving()  # from here on for the rest of the run: it cannot be undone
        for kind, applicants in leads.items():
            match_products(applicants[0], products)  # warm-up: first-call costs are not per call
            gc.collect()  # the same heap for each kind; collections during the run count
            rows.append(
                [f"{kind}, {collector} gc", len(applicants), *time_calls(products, applicants)]
            )
    header = ["lead, collector", "calls", "p50 ms", "p90 ms", "p99 ms", "max ms", "calls/s"]
    header.append("matches/s")
    print(f"\nmatch_products, {args.products:,} products per call")
    print(common.table([*header, "eligible/call", "reasons/product"], rows))
    print(f"goal: p99 < 20 ms; machine: {common.machine_note()}")


if __name__ == "__main__":
    main()
