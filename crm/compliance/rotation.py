"""Key rotation for personal data: what is still sealed with a retired key is sealed again with
the active one, in batches: leads, lead sheets waiting for their import, application documents
and contracts (their stored HTML and their PDF)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import accumulate
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm.compliance.pii import PII_FIELDS, PiiVault
from crm.db import after_commit, after_rollback
from crm.leads import uploads
from crm.leads.models import Lead, Upload
from crm.loans.contract_sealing import PDF_PENDING, reencrypt_html
from crm.loans.models import ApplicationDocument, Contract
from crm.loans.storage import DocumentNotFound, EncryptedStorage, storage_key

if TYPE_CHECKING:
    from crm.sweeps import Transaction

# Documents (10 MB at most) and contract PDFs are read whole and their rows locked until the
# batch commits, which a download of one of them waits for (on SQLite, every writer waits), so
# a batch of documents also stops once it has read DOCUMENT_BYTES: a hundred scanned statements
# would hold the lock for seconds.
DOCUMENT_BATCH = 100
DOCUMENT_BYTES = 32 * 2**20


def reencrypt_batch(session: Session, vault: PiiVault, batch_size: int) -> int:
    """Move up to `batch_size` leads to the active key; returns how many moved (0 = done)."""
    stale = select(Lead).where(Lead.pii_key_id != vault.active_key_id).limit(batch_size)
    if _on_postgresql(session):
        # several rotators (or a rotator and the web app) never fight over the same rows
        stale = stale.with_for_update(skip_locked=True)
    leads = list(session.scalars(stale))
    for lead in leads:
        reencrypt_lead(vault, lead)
    return len(leads)


def reencrypt_lead(vault: PiiVault, lead: Lead) -> None:
    for field in PII_FIELDS:
        token = getattr(lead, f"{field}_enc")
        if token is not None and vault.cipher.needs_rotation(token):
            setattr(lead, f"{field}_enc", vault.reencrypt(token, field))
    lead.pii_key_id = vault.active_key_id


def reseal_upload(session: Session, vault: PiiVault) -> int:
    """Seal one lead sheet still held under another key than the active one (or none: stored
    before 0015) with the active key; returns 1, or 0 when none is left. One at a time: a sheet
    may be 64 MB. Imported sheets are blanked and have nothing to seal."""
    active = f"{vault.active_key_id}.".encode("ascii")
    stale = (
        select(Upload)
        .where(
            func.length(Upload.content) > 0,
            or_(~Upload.sealed, func.substr(Upload.content, 1, len(active)) != active),
        )
        .limit(1)
    )
    if _on_postgresql(session):
        # an import blanks its sheet as it stores the result: a sheet being blanked right now
        # is skipped, and one locked here is blanked after this commits, never sealed again
        # after it was blanked
        stale = stale.with_for_update(skip_locked=True)
    upload = session.scalars(stale).first()
    if upload is None:
        return 0
    content = uploads.content_of(vault.cipher, upload)
    upload.content, upload.sealed = uploads.seal(vault.cipher, upload.id, content), True
    return 1


@dataclass(frozen=True, slots=True)
class ResealBatch:
    """One batch of documents or contracts."""

    last_id: int | None  # where the next batch starts; None: no row after the cursor
    resealed: int
    missing: int  # rows whose file is not in the storage


def reseal_documents(
    session: Session,
    storage: EncryptedStorage,
    after_id: int,
    batch_size: int,
    byte_budget: int = DOCUMENT_BYTES,
) -> ResealBatch:
    """Seal with the active key the documents of the next `batch_size` (by id, after
    `after_id`; fewer once `byte_budget` bytes are reached, one at least) that are sealed with
    another: which key sealed a file is in the file, not in its row, so every document is read.
    Each is written anew under a fresh storage key (a stored file is never rewritten in place),
    its row moves there, and the old file is deleted once that is committed; rolled back, the
    new file goes instead."""
    sizes = session.scalars(
        select(ApplicationDocument.size)
        .where(ApplicationDocument.id > after_id)
        .order_by(ApplicationDocument.id)
        .limit(batch_size)
    )
    fitting = max(1, sum(1 for read in accumulate(sizes) if read <= byte_budget))
    # waits for a download reading the old file (it holds the row FOR SHARE) rather than
    # deleting the file under it, and never skips a document: the cursor passes only once
    documents = _locked_batch(session, ApplicationDocument, after_id, fitting)
    resealed = missing = 0
    for document in documents:
        old = document.storage_key
        new = storage_key(document.org_id, document.application_id, PurePosixPath(old).suffix)
        try:
            moved = _reseal_file(session, storage, old, new)
        except DocumentNotFound:
            missing += 1
            continue
        if moved:
            document.storage_key = new
            resealed += 1
    return ResealBatch(documents[-1].id if documents else None, resealed, missing)


def reseal_contracts(
    session: Session, vault: PiiVault, storage: EncryptedStorage, after_id: int, batch_size: int
) -> ResealBatch:
    """Seal with the active key the contracts of the next `batch_size` (by id, after
    `after_id`) that are sealed with another: the HTML in the row is encrypted again, and a
    rendered PDF moves to a fresh storage key as a document does (one not rendered yet has no
    file: it is rendered under the active key). The plaintext stays the same, so do the
    hashes."""
    # waits for a PDF download (it holds the row FOR UPDATE, as it may render the PDF) rather
    # than deleting the file under it
    rows = _locked_batch(session, Contract, after_id, batch_size)
    resealed = missing = 0
    for contract in rows:
        moved = reencrypt_html(vault, contract)
        if contract.pdf_sha256 != PDF_PENDING:
            new = storage_key(contract.org_id, contract.application_id, ".pdf")
            try:
                if _reseal_file(session, storage, contract.pdf_key, new):
                    contract.pdf_key, moved = new, True
            except DocumentNotFound:
                missing += 1
        if moved:
            resealed += 1
    return ResealBatch(rows[-1].id if rows else None, resealed, missing)


def _reseal_file(session: Session, storage: EncryptedStorage, old: str, new: str) -> bool:
    """The file under `old` written anew under `new` with the active key, unless it is sealed
    with that key already (False); the old file goes once this commits, the new one if it
    rolls back."""
    if not storage.reseal(old, new):
        return False
    after_rollback(session, partial(storage.delete, new))
    after_commit(session, partial(storage.delete, old))
    return True


def reencrypt_all(
    transaction: Transaction,
    vault: PiiVault,
    storage: EncryptedStorage,
    batch_size: int,
    document_batch: int = DOCUMENT_BATCH,
) -> dict[str, int]:
    """Everything still sealed with a retired key sealed with the active one, each batch in a
    committed transaction (a run stopped halfway keeps what it did); how much of each."""
    counts: dict[str, int] = {"leads": 0, "lead_sheets": 0}
    while True:
        with transaction() as session:
            moved = reencrypt_batch(session, vault, batch_size)
        counts["leads"] += moved
        if not moved:
            break
    while True:
        with transaction() as session:
            moved = reseal_upload(session, vault)
        counts["lead_sheets"] += moved
        if not moved:
            break
    counts["documents"], counts["documents_missing"] = _by_cursor(
        transaction,
        lambda session, after_id: reseal_documents(session, storage, after_id, document_batch),
    )
    counts["contracts"], counts["contracts_missing"] = _by_cursor(
        transaction,
        lambda session, after_id: reseal_contracts(
            session, vault, storage, after_id, document_batch
        ),
    )
    return counts


def _by_cursor(
    transaction: Transaction, reseal: Callable[[Session, int], ResealBatch]
) -> tuple[int, int]:
    """Every batch from the first id on, each committed; how many resealed and missing."""
    resealed = missing = 0
    after_id: int | None = 0
    while after_id is not None:
        with transaction() as session:
            batch = reseal(session, after_id)
        resealed, missing = resealed + batch.resealed, missing + batch.missing
        after_id = batch.last_id
    return resealed, missing


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _locked_batch(session: Session, model: Any, after_id: int, batch_size: int) -> list[Any]:
    """The next `batch_size` rows of `model` by id after `after_id`, locked until commit."""
    stmt = (
        select(model)
        .where(model.id > after_id)
        .order_by(model.id)
        .limit(batch_size)
        .with_for_update()
    )
    return list(session.scalars(stmt))
