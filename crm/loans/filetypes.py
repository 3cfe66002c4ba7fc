"""What an uploaded application document really is, judged by its bytes, and whether we keep it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm.errors import DomainError

# HEIC is left out on purpose: only Safari displays it, so a reviewer on Chrome/Edge could not
# open the ID photo; decoding it server-side needs libheif (pillow-heif), a native dependency for
# one format; and iOS Safari already converts photos to JPEG when the file input asks for images.
ALLOWED = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# Strict: the header must open the file. Readers tolerate junk before it, which is exactly how
# HTML/ZIP polyglots pass as PDFs.
PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
JPEG_SOI = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEBP_CHUNKS = (b"VP8 ", b"VP8L", b"VP8X")


@dataclass(frozen=True)
class Sniffed:
    """A recognised document type: its MIME type and the extension we store it under."""

    mime: str
    extension: str


def _mime_of(data: bytes) -> str | None:
    if PDF_HEADER.match(data):
        return "application/pdf"
    if data.startswith(JPEG_SOI):
        return "image/jpeg"
    # The first chunk of every PNG is IHDR; checking it turns away a bare signature and garbage.
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data[12:16] in WEBP_CHUNKS:
        return "image/webp"
    return None


def sniff(data: bytes) -> Sniffed | None:
    """The allowed type `data` is, from its magic bytes alone; None for anything else."""
    mime = _mime_of(data)
    return Sniffed(mime, ALLOWED[mime]) if mime else None


def check_document(data: bytes, filename: str | None = None) -> Sniffed:
    """The type of an upload we accept, or a DomainError saying why it is refused.

    `filename` only labels the error: the client names files and sets Content-Type freely, so
    neither decides what the bytes are.
    """
    details = {"filename": filename} if filename else {}
    if not data:
        raise DomainError("empty_file", "the file is empty", 422, details)
    if len(data) > MAX_DOCUMENT_BYTES:
        # 413, as Flask's MAX_CONTENT_LENGTH and the lead-sheet import answer: one meaning, one
        # status, and the client knows to shrink the file rather than fix a field.
        raise DomainError(
            "file_too_large",
            f"the file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
            413,
            {**details, "max_bytes": MAX_DOCUMENT_BYTES},
        )
    sniffed = sniff(data)
    if sniffed is None:
        raise DomainError(
            "unsupported_file_type",
            "only PDF, JPEG, PNG and WEBP files are accepted",
            422,
            {**details, "allowed": sorted(ALLOWED)},
        )
    return sniffed
