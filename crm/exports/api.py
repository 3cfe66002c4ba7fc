"""De-identified dataset exports: ask for one (a job), then download the file."""

from __future__ import annotations

from uuid import uuid4

from flask import Response as FlaskResponse
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import after_commit
from crm.exports import service
from crm.exports.schemas import DeidentifiedExportRequest
from crm.extensions import runtime
from crm.http import ApiBlueprint
from crm.leads.schemas import JobAccepted

bp = ApiBlueprint("exports", __name__, tag="exports")
PERMISSION = "data:deidentified_export"


@bp.endpoint(
    "/exports/deidentified",
    "POST",
    body=DeidentifiedExportRequest,
    response=JobAccepted,
    status=202,
    permission=PERMISSION,
)
def request_deidentified(session: Session, actor: Actor, body: DeidentifiedExportRequest):
    """Start a de-identified dataset export of the filtered leads (see GET /jobs/{id})."""
    job_id = uuid4().hex
    export = service.request_export(session, actor, body, job_id)
    # enqueued once the export row is committed, so the worker is sure to find it
    after_commit(
        session,
        lambda: runtime.jobs.enqueue(
            "workers.jobs.deidentified_export.run",
            export.id,
            actor.user_id,
            org_id=actor.org_id,
            user_id=actor.user_id,
            queue="privacy",
            job_id=job_id,
            description=f"de-identified export {export.id}",
        ),
    )
    return {"job_id": job_id}


@bp.endpoint("/exports/<job_id>/file", permission=PERMISSION, readonly=False)
def download(session: Session, actor: Actor, job_id: str):
    """The finished export as gzip-compressed CSV; another org's export answers 404."""
    content, filename = service.export_file(session, actor, job_id)
    return FlaskResponse(
        content,
        mimetype="application/gzip",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
