"""Application documents: checked by content, kept outside the web root, read only by permitted
users of the same org, and every download written to the audit log."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance import audit
from crm.db import after_rollback
from crm.errors import DomainError, NotFound
from crm.loans.applications import get_application
from crm.loans.filetypes import check_document
from crm.loans.models import ApplicationDocument
from crm.loans.storage import DocumentStorage, storage_key

# Documents are added while the application is being prepared or reviewed; after a decision the
# file set is what the decision was made on.
OPEN_FOR_DOCUMENTS = frozenset({"draft", "submitted", "under_review", "needs_documents"})


@dataclass(frozen=True, slots=True)
class DocumentFile:
    document: ApplicationDocument
    content: bytes


def upload(
    session: Session,
    actor: Actor,
    storage: DocumentStorage,
    application_id: int,
    kind: str,
    filename: str | None,
    data: bytes,
) -> ApplicationDocument:
    application = get_application(session, actor, application_id, for_update=True)
    if application.status not in OPEN_FOR_DOCUMENTS:
        raise DomainError(
            "application_locked",
            f"documents cannot be added to an application that is {application.status}",
            details={"status": application.status},
        )
    sniffed = check_document(data, filename)
    key = storage_key(application.org_id, application.id, sniffed.extension)
    document = ApplicationDocument(
        org_id=application.org_id,
        application_id=application.id,
        kind=kind,
        filename=_display_name(filename, sniffed.extension),
        mime=sniffed.mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_by=actor.user_id,
    )
    session.add(document)
    session.flush()
    # last, after every check: a refused upload leaves no file behind
    storage.put(key, data)
    after_rollback(session, lambda: storage.delete(key))
    return document


def list_documents(session: Session, application_id: int) -> list[ApplicationDocument]:
    return list(
        session.scalars(
            select(ApplicationDocument)
            .where(ApplicationDocument.application_id == application_id)
            .order_by(ApplicationDocument.id)
        )
    )


def download(
    session: Session,
    actor: Actor,
    storage: DocumentStorage,
    application_id: int,
    document_id: int,
    purpose: str | None = None,
) -> DocumentFile:
    """The file, for someone who may see the application; the look is audited (who, when,
    which document of which lead, from where)."""
    application = get_application(session, actor, application_id)
    document = session.scalars(
        select(ApplicationDocument)
        .where(
            ApplicationDocument.id == document_id,
            ApplicationDocument.application_id == application.id,
        )
        # key rotation moves a file to a new storage key and deletes the old one once it has
        # committed (crm/compliance/rotation.py): it waits for this read to be done
        .with_for_update(read=True)
    ).one_or_none()
    if document is None:
        raise NotFound("document")
    content = storage.get(document.storage_key)
    audit.record(
        session,
        actor,
        "document_download",
        application.org_id,
        lead_id=application.lead_id,
        fields=[document.kind],
        purpose=purpose or "application review",
        details={"application_id": application.id, "document_id": document.id},
    )
    return DocumentFile(document, content)


def _display_name(filename: str | None, extension: str) -> str:
    """The uploader's file name for people to read, stripped of any path and control
    characters, with the extension of what the content really is."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    stem = PurePosixPath(name).stem[:100] or "document"
    return f"{stem}{extension}"
