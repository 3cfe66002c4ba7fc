"""Lead endpoints: intake, lists, edits, reveal, import and export."""

from __future__ import annotations

from dataclasses import asdict
from uuid import uuid4

from flask import Response as FlaskResponse
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from crm.auth.actor import Actor
from crm.db import after_commit
from crm.extensions import runtime
from crm.http import ApiBlueprint
from crm.leads import service, timeline
from crm.leads.export import export_leads
from crm.leads.importer import ImportOptions, check_options, store_upload
from crm.leads.schemas import (
    CreateLead,
    DuplicateOverlap,
    EventOut,
    ExportArgs,
    ImportForm,
    JobAccepted,
    LeadFilters,
    LeadOut,
    Revealed,
    RevealRequest,
    UpdateLead,
)
from crm.pools import service as pools
from crm.schemas import Page, PageArgs

bp = ApiBlueprint("leads", __name__, tag="leads")


@bp.endpoint(
    "/leads", "POST", body=CreateLead, response=LeadOut, status=201, permission="leads:write"
)
def create_lead(session: Session, actor: Actor, body: CreateLead):
    """Create a lead; 409 duplicate_lead when the org already has this phone number."""
    return service.create_lead(session, actor, runtime.vault, body)


@bp.endpoint("/leads", query=LeadFilters, response=Page[LeadOut], permission="leads:read")
def list_leads(session: Session, actor: Actor, query: LeadFilters):
    """Filter, search (exact phone, ID number or name) and sort leads; values are masked."""
    return service.list_leads(session, actor, runtime.vault, query)


@bp.endpoint("/leads/export", query=ExportArgs, permission="leads:export")
def export(session: Session, actor: Actor, query: ExportArgs):
    """Download the filtered list as CSV/XLSX; masked unless pii:export; always audited.

    Needs leads:export: an agent downloading the public pool would get round the daily cap on
    opening pool leads (防爬)."""
    content, mimetype, filename = export_leads(session, actor, runtime.vault, query)
    return FlaskResponse(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.endpoint(
    "/leads/import",
    "POST",
    form=ImportForm,
    files=("file",),
    response=JobAccepted,
    status=202,
    permission="leads:import",
)
def import_sheet(session: Session, actor: Actor, form: ImportForm, file: FileStorage):
    """Upload a CSV/XLSX lead sheet; the import runs as a job (see GET /jobs/{id})."""
    options = ImportOptions(
        source=form.source,
        mapping=form.mapping,
        consent_method=form.consent_method,
        consent_text_version=form.consent_text_version,
        pool_id=form.pool_id,
    )
    check_options(session, actor, options)  # before storing: a bad pool stores nothing
    upload = store_upload(session, actor, runtime.vault, file.filename or "upload", file.read())
    job_id = uuid4().hex
    # enqueued only once the upload is committed, so the worker is sure to find it
    after_commit(
        session,
        lambda: runtime.jobs.enqueue(
            "workers.jobs.import_leads.run",
            upload.id,
            actor.user_id,
            asdict(options),
            org_id=actor.org_id,
            user_id=actor.user_id,
            queue="imports",
            job_id=job_id,
            description=f"import {upload.filename}",
        ),
    )
    return JobAccepted(job_id=job_id)


@bp.endpoint("/leads/overlap", response=list[DuplicateOverlap], permission="orgs:all")
def overlap(session: Session, actor: Actor):
    """Headquarters: how many leads each pair of orgs shares (same phone number)."""
    return service.cross_org_overlap(session)


# writes: opening a pool lead counts against the agent's daily open cap
@bp.endpoint("/leads/<int:lead_id>", response=LeadOut, permission="leads:read", readonly=False)
def get_lead(session: Session, actor: Actor, lead_id: int):
    """One lead (masked)."""
    return pools.open_lead(session, actor, lead_id)


@bp.endpoint(
    "/leads/<int:lead_id>", "PATCH", body=UpdateLead, response=LeadOut, permission="leads:write"
)
def update_lead(session: Session, actor: Actor, lead_id: int, body: UpdateLead):
    """Edit a lead you own (managers: any lead of their org)."""
    return service.update_lead(session, actor, runtime.vault, lead_id, body)


@bp.endpoint(
    "/leads/<int:lead_id>/reveal",
    "POST",
    body=RevealRequest,
    response=Revealed,
    permission="pii:reveal",
)
def reveal(session: Session, actor: Actor, lead_id: int, body: RevealRequest):
    """Show full phone / ID number / name for a stated purpose; written to the audit log."""
    return service.reveal(session, actor, runtime.vault, lead_id, body)


@bp.endpoint(
    "/leads/<int:lead_id>/timeline",
    query=PageArgs,
    response=Page[EventOut],
    permission="leads:read",
)
def lead_timeline(session: Session, actor: Actor, lead_id: int, query: PageArgs):
    """Everything that happened to the lead, newest first."""
    return timeline.events(session, actor, lead_id, query)
