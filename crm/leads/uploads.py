"""Uploaded lead sheets at rest: the names, phones and ID numbers of a whole sheet of people,
sealed with the personal-data keyring (AES-GCM, as application documents are) and bound to
their upload, so a copied database or backup discloses nothing and one upload's bytes cannot
be passed off as another's. What reads or writes `uploads.content` goes through here, and the
daily clean-up deletes what is left of a sheet once its import can no longer need it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from crm.compliance.crypto import PiiCipher
from crm.leads.models import Upload
from crm.sweeps import Transaction, delete_in_batches

# A sheet holds the personal data of everyone on it, and PIPL allows keeping personal data only
# as long as its purpose needs it. Its purpose is its import, which runs within minutes of the
# upload, retried within minutes more (workers/execution.py, RETRY_INTERVALS); the job's status
# and result are kept a week (workers/runner.py, KEEP_SECONDS). A sheet not imported after a
# week never will be (refused, or failed for good), and an imported one's row, its content
# blanked, only ever answered a retry of its job with the stored `result`.
KEEP_DAYS = 7
# ids only are read, and a deleted sheet's bytes go with its row
PURGE_BATCH = 500


def context(upload_id: int) -> str:
    """The associated data a sheet is sealed with: its upload's id."""
    return f"upload:{upload_id}"


def seal(cipher: PiiCipher, upload_id: int, content: bytes) -> bytes:
    return cipher.seal(content, context(upload_id))


def content_of(cipher: PiiCipher, upload: Upload) -> bytes:
    """The sheet as it was uploaded, whether sealed or stored before sealing began (0015)."""
    if not upload.sealed:
        return upload.content
    return cipher.unseal(upload.content, context(upload.id))


def purge_uploads(
    transaction: Transaction, now: datetime, batch_size: int = PURGE_BATCH
) -> dict[str, int]:
    """Delete the uploads older than KEEP_DAYS that never got a result, sheet and all, and the
    imported ones whose content is blanked. A batch per committed transaction; a re-run finds
    what is left."""
    stale = select(Upload.id).where(
        Upload.created_at < now - timedelta(days=KEEP_DAYS),
        or_(Upload.result.is_(None), func.length(Upload.content) == 0),
    )
    return {"uploads_purged": delete_in_batches(transaction, Upload, stale, batch_size)}
