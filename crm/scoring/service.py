"""Scoring use cases: re-score leads after a change, score an import's rows, store the results.

Every path scores a whole batch with a fixed number of queries: the org's settings, the source
figures, one cross-org duplicate lookup, and (for stored leads) two activity counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crm.db import utcnow
from crm.leads.models import Lead
from crm.scoring import inputs
from crm.scoring.models import LeadScore, loaded_score_row
from crm.scoring.rules import Score, Scorer, SourceRates

_leads = Lead.__table__
_scores = LeadScore.__table__
_SET_SCORE = (
    update(_leads).where(_leads.c.id == bindparam("lead_id")).values(score=bindparam("new_score"))
)


def rescore(session: Session, leads: Sequence[Lead], now: datetime | None = None) -> None:
    """Score leads that were just created or changed (create, edit, follow-up)."""
    now = now or utcnow()
    by_org: defaultdict[int, list[Lead]] = defaultdict(list)
    for lead in leads:
        by_org[lead.org_id].append(lead)
    for org_id, group in by_org.items():
        session.flush()  # new leads need their ids, edits their values, before the lookups
        org = inputs.org_scoring(session, org_id)
        scores = score_rows(session, org, group, inputs.latest_source_rates(session, org_id), now)
        rows = store(session, org_id, [lead.id for lead in group], scores, now)
        for lead, score, row in zip(group, scores, rows, strict=True):
            lead.score = score.value
            set_committed_value(lead, "score_row", LeadScore(**row))


def score_rows(
    session: Session,
    org: inputs.OrgScoring,
    rows: Sequence[Any],
    rates: SourceRates,
    now: datetime,
    *,
    stored: bool = True,
    other_orgs: Mapping[str, int] | None = None,
) -> list[Score]:
    """Scores for `rows` (Leads, FACT_COLUMNS rows, or an import's column dicts if not `stored`)."""
    contexts = inputs.contexts(
        session, org, rows, rates, now, engagement=stored, other_orgs=other_orgs
    )
    scorer = Scorer(org.settings)
    return [
        scorer.score(inputs.facts_of(row), context)
        for row, context in zip(rows, contexts, strict=True)
    ]


def insert_scored_leads(
    session: Session,
    org_id: int,
    rows: list[dict[str, Any]],
    now: datetime | None = None,
    other_orgs: Mapping[str, int] | None = None,
) -> None:
    """The import's insert: score the new leads' column dicts in bulk and insert them with their
    score (Core executemany: the ORM's bulk path costs ~80% more per row and adds nothing here).
    Their breakdowns are written when each is first opened (ensure_breakdown): writing a
    breakdown row per imported lead would cost the import a quarter of its time."""
    now = now or utcnow()
    cache = session.info.setdefault("scoring_import", {})
    if org_id not in cache:  # one import inserts many batches of one org
        cache[org_id] = (
            inputs.org_scoring(session, org_id),
            inputs.latest_source_rates(session, org_id),
        )
    org, rates = cache[org_id]
    for row, score in zip(
        rows,
        score_rows(session, org, rows, rates, now, stored=False, other_orgs=other_orgs),
        strict=True,
    ):
        row["score"] = score.value
    session.execute(insert(_leads), rows)


def ensure_breakdown(session: Session, lead: Lead) -> None:
    """Score a lead that has no breakdown yet (imported in bulk), so its detail can show one."""
    if loaded_score_row(lead) is None:
        rescore(session, [lead])


def store(
    session: Session,
    org_id: int,
    lead_ids: Sequence[int],
    scores: Sequence[Score],
    now: datetime,
    *,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """Write the breakdowns (and with `run_id`, mark the leads done by that re-score run and
    count the run on each)."""
    rows = [
        {
            "lead_id": lead_id,
            "org_id": org_id,
            "breakdown": score.stored(),
            "scored_at": now,
            "run_id": run_id,
            "runs": 1 if run_id else 0,
        }
        for lead_id, score in zip(lead_ids, scores, strict=True)
    ]
    if rows:
        session.execute(_upsert(session, run_id), rows)
    return rows


def set_scores(session: Session, changed: Sequence[tuple[int, int]]) -> None:
    """Update `leads.score` for (lead id, new score) pairs, one executemany."""
    if changed:
        params = [{"lead_id": lead_id, "new_score": value} for lead_id, value in changed]
        session.execute(_SET_SCORE, params, execution_options={"synchronize_session": False})


def _upsert(session: Session, run_id: str | None) -> Any:
    insert_fn = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert_fn(_scores)
    new = stmt.excluded
    changes: dict[str, Any] = {"breakdown": new.breakdown, "scored_at": new.scored_at}
    if run_id is None:
        # a change between runs: the lead keeps the mark of the run that last did it
        return stmt.on_conflict_do_update(index_elements=["lead_id"], set_=changes)
    return stmt.on_conflict_do_update(
        index_elements=["lead_id"],
        set_={**changes, "run_id": new.run_id, "runs": _scores.c.runs + 1},
        # a lead this run already scored is never counted twice, whatever re-runs the batch
        where=_scores.c.run_id.is_distinct_from(new.run_id),
    )
