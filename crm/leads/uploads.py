"""Uploaded lead sheets at rest: the names, phones and ID numbers of a whole sheet of people,
sealed with the personal-data keyring (AES-GCM, as application documents are) and bound to
their upload, so a copied database or backup discloses nothing and one upload's bytes cannot
be passed off as another's. What reads or writes `uploads.content` goes through here."""

from __future__ import annotations

from crm.compliance.crypto import PiiCipher
from crm.leads.models import Upload


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
