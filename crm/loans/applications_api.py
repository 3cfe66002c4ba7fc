"""Application (进件) endpoints: the workflow, documents and contracts."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from crm.auth.actor import Actor
from crm.db import after_commit
from crm.extensions import runtime
from crm.http import ApiBlueprint, file_response
from crm.loans import applications, contracts, documents, views
from crm.loans.filetypes import MAX_DOCUMENT_BYTES
from crm.loans.schemas import (
    ApplicationDetail,
    ApplicationFilters,
    ApplicationOut,
    Cancel,
    ContractOut,
    Decision,
    DocumentForm,
    DocumentOut,
    NewApplication,
    SignContract,
    UpdateApplication,
)
from crm.schemas import Page

bp = ApiBlueprint("applications", __name__, tag="applications")


def _detail(session: Session, actor: Actor, application):
    return views.application_detail(session, actor, application)


@bp.endpoint(
    "/applications",
    "POST",
    body=NewApplication,
    response=ApplicationDetail,
    status=201,
    permission="applications:write",
)
def create_application(session: Session, actor: Actor, body: NewApplication):
    """Start a draft application of a lead you work for a product; APR checked against the cap."""
    application = applications.create_application(session, actor, runtime.vault, body)
    return _detail(session, actor, application)


@bp.endpoint(
    "/applications",
    query=ApplicationFilters,
    response=Page[ApplicationOut],
    permission="applications:read",
)
def list_applications(session: Session, actor: Actor, query: ApplicationFilters):
    """Applications you may see; queue=mine is a reviewer's queue, longest waiting first."""
    page = applications.list_applications(session, actor, query)
    return views.application_page(session, actor, page)


@bp.endpoint(
    "/applications/<int:application_id>", response=ApplicationDetail, permission="applications:read"
)
def get_application(session: Session, actor: Actor, application_id: int):
    """One application with its documents, contracts, fees and schedule."""
    application = applications.get_application(session, actor, application_id)
    return _detail(session, actor, application)


@bp.endpoint(
    "/applications/<int:application_id>",
    "PATCH",
    body=UpdateApplication,
    response=ApplicationDetail,
    permission="applications:write",
)
def update_application(session: Session, actor: Actor, application_id: int, body):
    """Change the terms of a draft, or of an application sent back for documents."""
    application = applications.update_application(session, actor, application_id, body)
    return _detail(session, actor, application)


@bp.endpoint(
    "/applications/<int:application_id>/submit",
    "POST",
    response=ApplicationDetail,
    permission="applications:write",
)
def submit(session: Session, actor: Actor, application_id: int):
    """Send to review (a reviewer is assigned); the lead becomes applied."""
    return _detail(session, actor, applications.submit(session, actor, application_id))


@bp.endpoint(
    "/applications/<int:application_id>/review",
    "POST",
    response=ApplicationDetail,
    permission="applications:review",
)
def start_review(session: Session, actor: Actor, application_id: int):
    """A reviewer takes the application from the queue."""
    return _detail(session, actor, applications.start_review(session, actor, application_id))


@bp.endpoint(
    "/applications/<int:application_id>/decision",
    "POST",
    body=Decision,
    response=ApplicationDetail,
    permission="applications:review",
)
def decide(session: Session, actor: Actor, application_id: int, body: Decision):
    """Approve, reject (with the reason) or ask for more documents (补充资料)."""
    application = applications.decide(session, actor, application_id, body.decision, body.note)
    return _detail(session, actor, application)


@bp.endpoint(
    "/applications/<int:application_id>/cancel",
    "POST",
    body=Cancel,
    response=ApplicationDetail,
    permission="applications:write",
)
def cancel(session: Session, actor: Actor, application_id: int, body: Cancel):
    """Withdraw an application that has not been disbursed."""
    application = applications.cancel(session, actor, application_id, body.reason)
    return _detail(session, actor, application)


@bp.endpoint(
    "/applications/<int:application_id>/documents",
    "POST",
    form=DocumentForm,
    files=("file",),
    response=DocumentOut,
    status=201,
    permission="applications:write",
)
def upload_document(
    session: Session, actor: Actor, application_id: int, form: DocumentForm, file: FileStorage
):
    """Attach a PDF/JPEG/PNG/WEBP document (type read from its content, 10 MB at most)."""
    data = file.stream.read(MAX_DOCUMENT_BYTES + 1)
    return documents.upload(
        session, actor, runtime.documents, application_id, form.kind, file.filename, data
    )


@bp.endpoint(
    "/applications/<int:application_id>/documents/<int:document_id>",
    permission="applications:read",
    readonly=False,  # the download writes its audit record
)
def download_document(session: Session, actor: Actor, application_id: int, document_id: int):
    """The document's file; every download is audited."""
    found = documents.download(session, actor, runtime.documents, application_id, document_id)
    return file_response(found.content, found.document.mime, found.document.filename)


@bp.endpoint(
    "/applications/<int:application_id>/contract",
    "POST",
    response=ContractOut,
    status=201,
    permission="applications:write",
)
def generate_contract(session: Session, actor: Actor, application_id: int):
    """Generate the next contract version (HTML, then its PDF in a job) with the APR and every
    fee disclosed."""
    contract = contracts.generate(session, actor, runtime.documents, runtime.vault, application_id)
    after_commit(
        session,
        lambda: runtime.jobs.enqueue(
            "workers.jobs.render_contract.run",
            contract.id,
            org_id=contract.org_id,
            user_id=actor.user_id,
            description=f"render contract {contract.contract_no}",
        ),
    )
    return contract


@bp.endpoint(
    "/applications/<int:application_id>/contract/sign",
    "POST",
    body=SignContract,
    response=ContractOut,
    permission="applications:write",
)
def sign_contract(session: Session, actor: Actor, application_id: int, body: SignContract):
    """Record that the borrower signed the latest version (time, IP, witness)."""
    return contracts.sign(session, actor, application_id, body.method)


@bp.endpoint(
    "/applications/<int:application_id>/contracts/<int:version>.<any(pdf,html):fmt>",
    permission="applications:read",
    readonly=False,
)
def download_contract(
    session: Session,
    actor: Actor,
    application_id: int,
    version: int,
    fmt: Literal["pdf", "html"],
):
    """A contract version as PDF or HTML; audited, since it names the borrower."""
    found = contracts.download(
        session, actor, runtime.documents, runtime.vault, application_id, version, fmt
    )
    name = f"{found.contract.contract_no}.{fmt}"
    return file_response(found.content, found.mime, name, inline=fmt == "html")
