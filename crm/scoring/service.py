"""Scoring use cases: re-score leads after a change, score an import's rows, store the results.

Every path scores a whole batch with a fixed number of statements: the org's settings, the source
figures, one read of the leads with their surroundings (or, for an import, the duplicate look-up
it already made), and the writes of what changed. On PostgreSQL each write sends the batch in
one statement (arrays, or one JSON document): an executemany is a round trip and a parameter set
built per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crm.db import utcnow
from crm.leads.models import Lead
from crm.scoring import inputs
from crm.scoring.models import LeadScore, loaded_score_row
from crm.scoring.rules import Score, Scorer

_leads = Lead.__table__
_scores = LeadScore.__table__


def rescore(session: Session, leads: Sequence[Lead], now: datetime | None = None) -> None:
    """Score leads that were just created or changed (create, edit, follow-up)."""
    now = now or utcnow()
    by_org: defaultdict[int, list[Lead]] = defaultdict(list)
    for lead in leads:
        by_org[lead.org_id].append(lead)
    session.flush()  # new leads need their ids, edits their values, before the read
    for org_id, group in by_org.items():
        org = inputs.org_scoring(session, org_id)
        scorer = inputs.scorer(org, inputs.latest_source_rates(session, org_id), now)
        since = inputs.engagement_since(org.settings, now)
        ids = [lead.id for lead in group]
        rows = inputs.read_stored(
            session, inputs.stored_facts(org_id, since).where(Lead.id.in_(ids))
        )
        scores = {row.id: scorer.score(row) for row in rows}
        store(session, org_id, changed_breakdowns(rows, scores.values()), now, scorer)
        for lead in group:
            score = scores[lead.id]
            lead.score = score.value
            row = LeadScore(
                lead_id=lead.id,
                org_id=org_id,
                breakdown=score.stored(),
                scored_at=now,
                fingerprint=score.fingerprint,
            )
            set_committed_value(lead, "score_row", row)


def insert_scored_leads(
    session: Session,
    org_id: int,
    rows: list[dict[str, Any]],
    now: datetime,
    other_orgs: Mapping[str, int],
) -> None:
    """The import's insert: score the new leads' column dicts in bulk and insert them with their
    score (Core executemany: the ORM's bulk path costs ~80% more per row and adds nothing here).
    Their breakdowns are written when each is first opened (ensure_breakdown): writing a
    breakdown row per imported lead would cost the import a quarter of its time."""
    cache = session.info.setdefault("scoring_import", {})
    if org_id not in cache:  # one import inserts many batches of one org: one scorer for all
        org = inputs.org_scoring(session, org_id)
        cache[org_id] = inputs.scorer(org, inputs.latest_source_rates(session, org_id), now)
    scorer = cache[org_id]
    for row in rows:
        row["score"] = scorer.score(
            inputs.facts_of(row, other_orgs.get(row["phone_bidx"], 0))
        ).value
    session.execute(insert(_leads), rows)


def ensure_breakdown(session: Session, lead: Lead) -> None:
    """Score a lead that has no breakdown yet (imported in bulk), so its detail can show one."""
    if loaded_score_row(lead) is None:
        rescore(session, [lead])


def changed_breakdowns(
    rows: Iterable[inputs.StoredLead], scores: Iterable[Score], missing: bool = True
) -> list[tuple[int, Score]]:
    """(lead id, score) of the rows of `inputs.stored_facts` whose stored breakdown differs
    from the new one, and, with `missing`, of those that have none stored yet."""
    return [
        (row.id, score)
        for row, score in zip(rows, scores, strict=True)
        if row.fingerprint != score.fingerprint and (missing or row.fingerprint is not None)
    ]


def store(
    session: Session,
    org_id: int,
    breakdowns: Sequence[tuple[int, Score]],
    now: datetime,
    scorer: Scorer,
) -> None:
    """Write the (lead id, score) breakdowns `scorer` gave, replacing the leads' earlier ones."""
    if not breakdowns:
        return
    if _on_postgresql(session):
        # the batch as one JSON document [[lead id, fingerprint, breakdown], ...]: the
        # breakdowns are JSON already, and the server parses it faster than the driver would
        # escape a text array
        document = ",".join(f"[{i},{s.fingerprint},{scorer.stored_text(s)}]" for i, s in breakdowns)
        batch = (
            func.json_array_elements(cast(literal(f"[{document}]", Text), postgresql.JSON))
            .table_valued("value")
            .render_derived(name="batch")
        )
        values = select(
            cast(batch.c.value.op("->>")(0), BigInteger),
            literal(org_id),
            batch.c.value.op("->")(2),
            literal(now),
            cast(batch.c.value.op("->>")(1), BigInteger),
        )
        columns = ["lead_id", "org_id", "breakdown", "scored_at", "fingerprint"]
        session.execute(_upsert(pg_insert(_scores).from_select(columns, values)))
        return
    # the breakdown goes in as the JSON text already made, not through the column's encoder
    stmt = sqlite_insert(_scores).values(breakdown=bindparam("text", type_=Text))
    params = [
        {
            "lead_id": i,
            "org_id": org_id,
            "text": scorer.stored_text(s),
            "scored_at": now,
            "fingerprint": s.fingerprint,
        }
        for i, s in breakdowns
    ]
    session.execute(_upsert(stmt), params)


def set_scores(session: Session, changed: Sequence[tuple[int, int]]) -> None:
    """Update `leads.score` for (lead id, new score) pairs in one statement."""
    if not changed:
        return
    options = {"synchronize_session": False}
    if _on_postgresql(session):
        # the pairs as two arrays: `unnest(:ids, :scores) AS batch(id, score)`
        ids, values = zip(*changed, strict=True)
        batch = (
            func.unnest(
                bindparam("ids", list(ids), type_=postgresql.ARRAY(BigInteger)),
                bindparam("scores", list(values), type_=postgresql.ARRAY(Integer)),
            )
            .table_valued("id", "score")
            .render_derived(name="batch")
        )
        stmt = update(_leads).where(_leads.c.id == batch.c.id).values(score=batch.c.score)
        session.execute(stmt, execution_options=options)
        return
    stmt = update(_leads).where(_leads.c.id == bindparam("lead_id"))
    params = [{"lead_id": lead_id, "new_score": value} for lead_id, value in changed]
    session.execute(stmt.values(score=bindparam("new_score")), params, execution_options=options)


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _upsert(stmt: Any) -> Any:
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["lead_id"],
        set_={
            "breakdown": new.breakdown,
            "scored_at": new.scored_at,
            "fingerprint": new.fingerprint,
        },
    )
