"""Org re-score runs: every lead of an org (or an id range) scored again, in keyset batches.

A run is resumable and never double-applies: each batch is one transaction that scores its
leads, records itself (scoring_batches) and moves the run's cursor past them. A worker killed
mid-batch loses that batch's transaction only; the retried job finds the cursor where the last
committed batch left it. Only scores and stored breakdowns that changed are written, so a
routine re-score, which changes few, costs little more than reading the leads."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid5

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.errors import DomainError, NotFound
from crm.gc_tuning import fewer_collections
from crm.leads.models import Lead
from crm.orgs.models import Org
from crm.queries import get_visible
from crm.scoring import inputs, service
from crm.scoring.models import ScoringBatch, ScoringRun
from crm.scoring.rules import Scorer

BATCH_SIZE = 2_000
# namespace of the scheduled runs' ids (any fixed UUID; changing it would re-run a day's runs)
_DAILY = UUID("5c0f2e4e-6d1b-4a55-9a43-1f0d2b8e7a10")

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class RunRequest:
    org_id: int
    min_lead_id: int | None = None
    max_lead_id: int | None = None


def target_org(session: Session, actor: Actor, org_id: int | None) -> int:
    """The org to re-score: the actor's own, or (HQ roles) any org they name."""
    if org_id is None or org_id == actor.org_id:
        if actor.org_id is None:
            raise DomainError("org_required", "name the org to re-score")
        return actor.org_id
    if not actor.sees_all_orgs:
        raise NotFound("org")  # another org answers like a missing one
    return get_visible(session, Org, org_id, "org").id


def daily_run_id(org_id: int, day: date) -> str:
    """The id of an org's scheduled re-score on `day`. The same on a second trigger that day
    (a retried or doubly scheduled job), which then resumes or returns that run, never starts
    another."""
    return uuid5(_DAILY, f"{org_id}:{day.isoformat()}").hex


def org_ids(session: Session) -> list[int]:
    """Every org, for the scheduled re-score."""
    return list(session.scalars(select(Org.id).order_by(Org.id)))


def run(
    transaction: Transaction,
    run_id: str,
    request: RunRequest,
    requested_by: int | None,
    progress: Callable[[float], None],
    batch_size: int = BATCH_SIZE,
    now: Callable[[], datetime] = utcnow,
) -> dict[str, int | str]:
    """Score the org's leads batch by batch; safe to call again with the same run id."""
    with transaction() as session:
        scoring_run = _open_run(session, run_id, request, requested_by)
        # one scorer for the whole run (its cache is what makes a lead cheap); weights changed
        # while a run goes on apply from the next run
        org = inputs.org_scoring(session, request.org_id)
        scorer = inputs.scorer(org, inputs.source_rates(scoring_run.source_stats), now())
    with fewer_collections():
        while scoring_run.finished_at is None:
            with transaction() as session:
                scoring_run = _score_batch(session, run_id, scorer, batch_size, now())
            progress(scoring_run.scored / scoring_run.total if scoring_run.total else 1.0)
    return {"run_id": run_id, "scored": scoring_run.scored, "total": scoring_run.total}


def _open_run(
    session: Session, run_id: str, request: RunRequest, requested_by: int | None
) -> ScoringRun:
    existing = session.get(ScoringRun, run_id)
    if existing is not None:  # a retry or a re-run of the same job: resume
        return existing
    org = inputs.org_scoring(session, request.org_id)
    stats = inputs.count_source_conversions(session, org.org_id, org.settings.conversion_stage)
    scoring_run = ScoringRun(
        id=run_id,
        org_id=request.org_id,
        requested_by=requested_by,
        min_lead_id=request.min_lead_id,
        max_lead_id=request.max_lead_id,
        last_lead_id=(request.min_lead_id or 1) - 1,
        total=session.scalar(select(func.count()).where(*_in_range(request))) or 0,
        scored=0,
        source_stats=stats,
    )
    session.add(scoring_run)
    session.flush()
    return scoring_run


def _score_batch(
    session: Session,
    run_id: str,
    scorer: Scorer,
    batch_size: int,
    now: datetime,
) -> ScoringRun:
    scoring_run = session.get(ScoringRun, run_id, with_for_update=True)
    request = RunRequest(scoring_run.org_id, scoring_run.min_lead_id, scoring_run.max_lead_id)
    rows = inputs.read_stored(
        session,
        inputs.stored_facts(request.org_id, inputs.engagement_since(scorer.settings, now))
        .where(*_in_range(request), Lead.id > scoring_run.last_lead_id)
        .order_by(Lead.id)
        .limit(batch_size),
    )
    if not rows:
        scoring_run.finished_at = now
        return scoring_run
    scores = [scorer.score(row) for row in rows]
    moved = [(r.id, s.value) for r, s in zip(rows, scores, strict=True) if r.score != s.value]
    service.set_scores(session, moved)
    # a lead with no breakdown stored (imported, never opened) gets one when first opened
    # (ensure_breakdown), as after its import: writing a million for leads nobody has opened
    # would double a run that moves every score
    rewritten = service.changed_breakdowns(rows, scores, missing=False)
    service.store(session, request.org_id, rewritten, now, scorer)
    session.add(
        ScoringBatch(
            run_id=run_id,
            first_lead_id=rows[0].id,
            last_lead_id=rows[-1].id,
            leads=len(rows),
            changed_scores=len(moved),
            changed_breakdowns=len(rewritten),
            scored_at=now,
        )
    )
    scoring_run.last_lead_id = rows[-1].id
    scoring_run.scored += len(rows)
    if len(rows) < batch_size:
        scoring_run.finished_at = now
    return scoring_run


def _in_range(request: RunRequest) -> list:
    conditions = [Lead.org_id == request.org_id]
    if request.min_lead_id is not None:
        conditions.append(Lead.id >= request.min_lead_id)
    if request.max_lead_id is not None:
        conditions.append(Lead.id <= request.max_lead_id)
    return conditions
