"""Lead scoring: how fast an org re-score runs, what a batch costs, and how well the score ranks.

    .venv/bin/python -m bench.scoring --rows 1000000 --database sqlite
    .venv/bin/python -m bench.scoring --rows 200000 --database postgresql --batch-sizes 2000
    .venv/bin/python -m bench.scoring --import-rows 50000 --database sqlite

Generates one org's leads where conversion depends on the scoring factors (plus noise): the
first half are "past" leads whose outcome is recorded (the source figures are learned from them),
the second half "new" leads whose outcome is hidden until the AUC is taken. It then times the
re-score exactly as workers/jobs/score_leads.run does it (crm.scoring.runs.run, one transaction
per keyset batch) for each batch size, and reports the AUC of the score on the new leads next to
a logistic regression fitted on the past leads (scikit-learn, optional: pip install it into the
venv for the run; it is not a dependency of the product). Personal-data columns hold
placeholders: scoring never reads them, and encrypting a million rows would time the generator.
A fifth of the leads carry a breakdown (stale), as leads an agent has opened do; a run keeps
those up to date and leaves the others to be worked out when first opened.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bench import common
from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.followups.models import Followup
from crm.leads.models import FUNNEL, Lead
from crm.orgs.models import Org
from crm.orgs.schemas import OrgSettings
from crm.scoring import runs
from crm.scoring.models import LeadScore, ScoringBatch

CITIES = ["北京", "上海", "深圳", "广州", "成都", "武汉", "西安", "杭州"]
SERVED = CITIES[:3]
# source name -> its true effect on the log-odds of converting
SOURCES = {
    "老客户转介绍": 1.0,
    "官网表单": 0.5,
    "百度竞价": 0.2,
    "信息流-抖音": 0.0,
    "微信朋友圈": -0.2,
    "短信营销": -0.5,
    "合作机构": 0.3,
    "购买名单": -1.0,
}
QUALIFICATIONS = {  # share of leads that have it, effect on the log-odds
    "provident_fund": (0.3, 0.9),
    "social_security": (0.45, 0.5),
    "car": (0.25, 0.3),
    "insurance_policy": (0.15, 0.2),
    "business_licence": (0.1, 0.3),
}
CHUNK = 10_000
# the share of leads an agent has opened, which therefore carry a breakdown
OPENED = 0.2


def generate(rng: random.Random, n: int) -> tuple[dict[str, Any], float]:
    """One lead's columns and its true conversion probability."""
    phone_city = rng.choice(SERVED) if rng.random() < 0.6 else rng.choice(CITIES[3:])
    quals: dict[str, Any] = {k: True for k, (p, _) in QUALIFICATIONS.items() if rng.random() < p}
    house = rng.random()
    if house < 0.35:
        quals["house"] = "owned" if house < 0.2 else "mortgaged"
    income = round(rng.lognormvariate(math.log(8000), 0.6)) if rng.random() < 0.7 else None
    if income:
        quals["monthly_income"] = str(income)
    amount = rng.choice([30_000, 50_000, 100_000, 200_000, 500_000]) if rng.random() < 0.7 else None
    birth = rng.randint(1960, 2004) if rng.random() < 0.6 else None
    lead = {
        "source": rng.choice(list(SOURCES)),
        "is_mobile": rng.random() < 0.92,
        "phone_city": phone_city,
        "city": phone_city if rng.random() < 0.8 else rng.choice(CITIES),
        "name_bidx": f"n{n}" if rng.random() < 0.9 else None,
        "id_number_bidx": f"i{n}" if birth else None,
        "birth_year": birth,
        "amount_wanted": amount,
        "term_months": rng.choice([12, 24, 36]) if rng.random() < 0.6 else None,
        "purpose": "经营周转" if rng.random() < 0.4 else None,
        "qualifications": quals,
    }
    return lead, _true_probability(rng, lead, income, amount)


def _true_probability(rng: random.Random, lead: dict[str, Any], income, amount) -> float:
    quals = lead["qualifications"]
    logit = -3.2 + 0.5 * lead["is_mobile"] + 0.6 * (lead["phone_city"] in SERVED)
    logit += sum(effect for k, (_, effect) in QUALIFICATIONS.items() if quals.get(k))
    logit += {"owned": 0.7, "mortgaged": 0.35}.get(quals.get("house"), 0.0)
    if income and amount:
        logit += 0.6 if amount <= income * 12 else (0.2 if amount <= income * 36 else -0.3)
    age = 2026 - lead["birth_year"] if lead["birth_year"] else None
    logit += 0.4 if age and 25 <= age <= 45 else (0.1 if age and 22 <= age <= 55 else 0.0)
    filled = sum(1 for k in ("name_bidx", "amount_wanted", "term_months", "purpose") if lead[k])
    logit += 0.1 * filled + SOURCES[lead["source"]] + rng.gauss(0, 0.5)
    return 1 / (1 + math.exp(-logit))


def load(rows: int, seed: int) -> tuple[int, list[int], list[bool], dict[int, Any]]:
    """The org, its other-org twins and the leads; returns (org id, new lead ids, their hidden
    outcomes, per-lead (LR features, past outcome) with outcome None for new leads)."""
    rng, openings = random.Random(seed), random.Random(seed + 1)
    now = utcnow()
    with db.engine.begin() as conn:
        orgs = [
            conn.execute(
                insert(Org.__table__).returning(Org.__table__.c.id),
                {
                    "name": f"bench-scoring-{i}",
                    "kind": "hq",
                    "cities": SERVED if i == 0 else [],
                    "settings": OrgSettings().model_dump(),
                    "created_at": now,
                },
            ).scalar_one()
            for i in range(3)
        ]
        new_ids, outcomes, features = [], [], {}
        for start in range(0, rows, CHUNK):
            batch, extra, meta = [], [], []
            for n in range(start, min(start + CHUNK, rows)):
                lead, p = generate(rng, n)
                converted, past = rng.random() < p, n < rows // 2
                others = 2 if rng.random() < 0.03 else (1 if rng.random() < 0.1 else 0)
                rank = FUNNEL.index("applied") if past and converted else rng.randint(0, 2)
                batch.append(_row(orgs[0], n, lead, rank if past else 0, now))
                extra += [_row(orgs[1 + k], n, lead, 0, now) for k in range(others)]
                meta.append((past, converted, others, lead))
            ids = conn.execute(insert(Lead.__table__).returning(Lead.__table__.c.id), batch)
            ids = ids.scalars().all()
            stale = {"org_id": orgs[0], "breakdown": [], "scored_at": now, "fingerprint": 0}
            opened = [stale | {"lead_id": i} for i in ids if openings.random() < OPENED]
            conn.execute(insert(LeadScore.__table__), opened)
            if extra:
                conn.execute(insert(Lead.__table__), extra)
            followups = []
            for lead_id, (past, converted, others, lead) in zip(ids, meta, strict=True):
                touches = rng.choice([0, 0, 0, 1, 2, 3]) + (1 if converted else 0)
                followups += [_followup(orgs[0], lead_id, now, rng) for _ in range(touches)]
                features[lead_id] = (_features(lead, others, touches), converted if past else None)
                if not past:
                    new_ids.append(lead_id)
                    outcomes.append(converted)
            if followups:
                conn.execute(insert(Followup.__table__), followups)
    return orgs[0], new_ids, outcomes, features


def _row(org_id: int, n: int, lead: dict[str, Any], rank: int, now) -> dict[str, Any]:
    return {
        **lead,
        "org_id": org_id,
        "phone_enc": "-",
        "phone_bidx": f"p{n}",
        "phone_masked": "138****0000",
        "pii_key_id": "bench",
        "reached_rank": rank,
        "created_at": now,
        "updated_at": now,
    }


def _followup(org_id: int, lead_id: int, now, rng: random.Random) -> dict[str, Any]:
    at = now - timedelta(days=rng.uniform(0, 20))
    return {
        "org_id": org_id,
        "lead_id": lead_id,
        "channel": "call",
        "content": "",
        "created_at": at,
    }


def _features(lead: dict[str, Any], others: int, touches: int) -> list[float]:
    """What a logistic regression gets: the same raw inputs the scoring rules read."""
    q = lead["qualifications"]
    income = float(q.get("monthly_income") or 0)
    amount = float(lead["amount_wanted"] or 0)
    age = 2026 - lead["birth_year"] if lead["birth_year"] else 0
    return [
        float(lead["is_mobile"]),
        float(lead["phone_city"] in SERVED),
        float(lead["city"] in SERVED),
        *(float(bool(q.get(k))) for k in QUALIFICATIONS),
        float(q.get("house") == "owned"),
        float(q.get("house") == "mortgaged"),
        math.log1p(amount / (income * 12)) if income and amount else -1.0,
        float(age),
        float(age * age) / 100,
        float(bool(lead["birth_year"])),
        *(float(lead["source"] == s) for s in SOURCES),
        float(touches),
        float(others),
        float(sum(1 for k in ("name_bidx", "amount_wanted", "term_months", "purpose") if lead[k])),
    ]


def auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half)."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(outcomes)
    negatives = len(outcomes) - positives
    rank_sum = sum(r for r, o in zip(ranks, outcomes, strict=True) if o)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def time_run(org_id: int, batch_size: int, lead_range: tuple[int, int] | None = None) -> list:
    """Re-score the org once: [seconds, scores changed, breakdowns rewritten]."""
    run_id = f"bench{batch_size:06d}{time.time_ns() % 10**12:012d}"[:32]
    request = runs.RunRequest(org_id, *(lead_range or (None, None)))
    start = time.perf_counter()
    runs.run(lambda: db.unit_of_work(SYSTEM), run_id, request, None, lambda _: None, batch_size)
    seconds = time.perf_counter() - start
    with db.engine.connect() as conn:
        changed = conn.execute(
            select(
                func.sum(ScoringBatch.changed_scores), func.sum(ScoringBatch.changed_breakdowns)
            ).where(ScoringBatch.run_id == run_id)
        ).one()
    return [seconds, *changed]


def model_auc(features: dict[int, Any], new_ids: list[int], outcomes: list[bool]) -> str:
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
    except ImportError:
        return "n/a (scikit-learn is not installed; pip install scikit-learn to compare)"
    past = [(x, converted) for x, converted in features.values() if converted is not None]
    model = LogisticRegression(max_iter=1000).fit([x for x, _ in past], [y for _, y in past])
    predicted = model.predict_proba([features[i][0] for i in new_ids])[:, 1]
    return f"{roc_auc_score(outcomes, predicted):.3f}"


def import_overhead(rows: int, kind: str, repeats: int = 2) -> None:
    """What scoring inside the import costs: the import job as built against the same job with
    the scoring hook swapped for the plain insert it replaced, alternating, best of `repeats`."""
    from bench.generate import write_sheet
    from bench.import_leads import timed_import, truncate
    from crm.leads import importer

    def plain_insert(session, org_id, fresh, now=None):
        session.execute(insert(Lead.__table__), fresh)

    csv_path = common.scratch_path(f"loanline_bench_scoring_{rows}.csv")
    write_sheet(csv_path, rows, 1)
    best: dict[str, tuple[float, float]] = {}
    try:
        with common.scratch_database(kind) as url:
            common.make_app(url)
            org_id, manager_id, _, _ = common.seed_org()
            for _ in range(repeats):
                for label in ("with scoring", "without scoring"):
                    truncate()
                    scored = importer.insert_scored_leads
                    if label == "without scoring":
                        importer.insert_scored_leads = plain_insert
                    try:
                        _, wall, cpu = timed_import(kind, label, csv_path, org_id, manager_id)
                    finally:
                        importer.insert_scored_leads = scored
                    old = best.get(label, (math.inf, math.inf))
                    best[label] = (min(old[0], wall), min(old[1], cpu))
    finally:
        csv_path.unlink(missing_ok=True)
    base_wall, base_cpu = best["without scoring"]
    table = [
        [label, wall, 100 * (wall / base_wall - 1), cpu, 100 * (cpu / base_cpu - 1)]
        for label, (wall, cpu) in best.items()
    ]
    print(common.table([f"import of {rows:,} rows ({kind})", "wall s", "+%", "CPU s", "+%"], table))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[500, 2_000, 10_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--import-rows", type=int, help="instead: time the import with and without scoring"
    )
    args = parser.parse_args(argv)
    print(f"machine: {common.machine_note()}")
    if args.import_rows:
        import_overhead(args.import_rows, args.database)
        print(f"machine: {common.machine_note()}")
        return
    with common.scratch_database(args.database) as url:
        common.make_app(url)
        start = time.perf_counter()
        org_id, new_ids, outcomes, features = load(args.rows, args.seed)
        print(f"generated {args.rows:,} leads in {time.perf_counter() - start:.0f} s")
        common.checkpoint()
        rows = []
        one, *changed = time_run(org_id, 1, (min(new_ids), min(new_ids) + 499))
        rows.append(["1 (first 500 new leads)", 500, 500, *changed, one, 500 / one, one * 2])
        for size in args.batch_sizes:
            # the first run rewrites every score and breakdown (the generated leads have none);
            # the second finds them unchanged, as a routine re-score mostly does
            for label in ("first run", "again"):
                common.vacuum("leads", "lead_scores", "followups", "calls")
                common.checkpoint()
                seconds, *changed = time_run(org_id, size)
                batches = math.ceil(args.rows / size)
                rows.append(
                    [
                        f"{size:,}, {label}",
                        batches,
                        args.rows,
                        *changed,
                        seconds,
                        args.rows / seconds,
                        seconds / batches * 1000,
                    ]
                )
        headers = ["batch size", "batches", "leads", "scores changed", "breakdowns written"]
        print(common.table([*headers, "s", "leads/s", "ms/batch"], rows))
        with db.engine.connect() as conn:
            scores = dict(
                conn.execute(select(Lead.id, Lead.score).where(Lead.org_id == org_id)).all()
            )
        ours = auc([scores[i] for i in new_ids], outcomes)
        print(
            common.table(
                ["ranking of the new leads", "AUC"],
                [
                    ["our score (0-100, default weights)", f"{ours:.3f}"],
                    [
                        "logistic regression on the past half",
                        model_auc(features, new_ids, outcomes),
                    ],
                ],
            )
        )
        print(f"conversion of the new leads: {sum(outcomes) / len(outcomes):.1%}")
    print(f"machine: {common.machine_note()}")


if __name__ == "__main__":
    main()
