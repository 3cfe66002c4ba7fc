"""Background job status: `GET /api/v1/jobs/{id}`, readable by the org that started the job."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.errors import NotFound
from crm.extensions import runtime
from crm.http import ApiBlueprint
from crm.schemas import Response

bp = ApiBlueprint("jobs", __name__, tag="jobs")


class JobError(Response):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class JobOut(Response):
    id: str
    status: Literal["queued", "started", "finished", "failed"]
    progress: float = Field(ge=0, le=1)
    result: Any | None = None
    error: JobError | None = None


@bp.endpoint("/jobs/<job_id>", response=JobOut)
def get_job(session: Session, actor: Actor, job_id: str):
    """Status, progress and result of a background job started by the caller's org."""
    job = runtime.jobs.fetch(job_id)
    # another org's job answers like a missing one, so job ids reveal nothing
    if job is None or not (actor.sees_all_orgs or job.org_id == actor.org_id):
        raise NotFound("job")
    return job
