"""Scoring endpoints: re-score an org's leads as a background job."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import after_commit
from crm.http import ApiBlueprint
from crm.leads.schemas import JobAccepted
from crm.scoring.runs import target_org
from crm.scoring.schemas import RescoreRequest
from workers.jobs import score_leads

bp = ApiBlueprint("scoring", __name__, tag="scoring")


@bp.endpoint(
    "/scoring/rescore",
    "POST",
    body=RescoreRequest,
    response=JobAccepted,
    status=202,
    permission="settings:manage",
)
def rescore(session: Session, actor: Actor, body: RescoreRequest):
    """Score every lead of the org (or an id range) again; progress at GET /jobs/{id}."""
    org_id = target_org(session, actor, body.org_id)
    job_id = uuid4().hex
    after_commit(
        session,
        lambda: score_leads.start(
            org_id, actor.user_id, body.min_lead_id, body.max_lead_id, job_id=job_id
        ),
    )
    return JobAccepted(job_id=job_id)
