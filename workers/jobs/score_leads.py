"""Job: re-score an org's leads (or an id range) in keyset batches, one transaction each.

The run id is the job id: RQ's retries (after an error, or after a worker died mid-batch and its
job was found abandoned) resume the run where its last committed batch ended."""

from __future__ import annotations

from uuid import uuid4

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.scoring import runs
from workers.progress import report


def run(
    run_id: str,
    org_id: int,
    min_lead_id: int | None = None,
    max_lead_id: int | None = None,
    requested_by: int | None = None,
    batch_size: int = runs.BATCH_SIZE,
) -> dict:
    return runs.run(
        lambda: db.unit_of_work(SYSTEM),
        run_id,
        runs.RunRequest(org_id, min_lead_id, max_lead_id),
        requested_by,
        progress=report,
        batch_size=batch_size,
    )


def start(
    org_id: int,
    requested_by: int | None = None,
    min_lead_id: int | None = None,
    max_lead_id: int | None = None,
    job_id: str | None = None,
) -> str:
    """Queue a re-score run of an org; its job id is the run id."""
    job_id = job_id or uuid4().hex
    return runtime.jobs.enqueue(
        "workers.jobs.score_leads.run",
        job_id,
        org_id,
        min_lead_id,
        max_lead_id,
        requested_by,
        org_id=org_id,
        user_id=requested_by,
        queue="scoring",
        job_id=job_id,
        description=f"re-score org {org_id}",
    )


def every_org() -> dict[str, int]:
    """Periodic (workers/schedule.py): queue the day's re-score of every org, one job each, so
    the source figures the scores learn from follow the conversions. Each run's id is its org's
    and day's: a second trigger the same day finds the first's run and resumes or returns it."""
    today = utcnow().date()
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        org_ids = runs.org_ids(session)
    for org_id in org_ids:
        start(org_id, job_id=runs.daily_run_id(org_id, today))
    return {"orgs": len(org_ids)}
