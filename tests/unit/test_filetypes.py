"""Uploaded documents are typed by their bytes, never by their name, and kept within limits."""

from __future__ import annotations

import pytest

from crm.errors import DomainError
from crm.loans.filetypes import MAX_DOCUMENT_BYTES, Sniffed, check_document, sniff

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + bytes(24)


@pytest.mark.parametrize(
    ("data", "mime", "extension"),
    [
        (PDF, "application/pdf", ".pdf"),
        (JPEG, "image/jpeg", ".jpg"),
        (PNG, "image/png", ".png"),
        (WEBP, "image/webp", ".webp"),
    ],
)
def test_each_allowed_type_is_recognised_from_its_bytes(data, mime, extension):
    assert sniff(data) == Sniffed(mime, extension)
    assert check_document(data, "upload") == Sniffed(mime, extension)


def test_png_named_pdf_is_a_png():
    assert check_document(PNG, "收入证明.pdf") == Sniffed("image/png", ".png")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(20), id="zip"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50), id="exe"),
        pytest.param(b"<html>%PDF-1.7 polyglot", id="pdf-header-not-first"),
        pytest.param(b"%PDF-", id="pdf-without-version"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="bare-png-signature"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(20), id="riff-wave"),
        pytest.param(b"\x00\x00\x00\x18ftypheic" + bytes(16), id="heic"),
    ],
)
def test_other_content_renamed_pdf_is_refused(data):
    assert sniff(data) is None
    with pytest.raises(DomainError) as refused:
        check_document(data, "身份证.pdf")
    assert refused.value.code == "unsupported_file_type"
    assert refused.value.status == 422
    assert refused.value.details["filename"] == "身份证.pdf"


def test_oversize_file_is_refused_with_413():
    data = PDF + bytes(MAX_DOCUMENT_BYTES + 1 - len(PDF))
    with pytest.raises(DomainError) as refused:
        check_document(data, "bank.pdf")
    assert refused.value.code == "file_too_large"
    assert refused.value.status == 413
    assert refused.value.details["max_bytes"] == MAX_DOCUMENT_BYTES


def test_file_of_exactly_the_limit_is_accepted():
    data = PDF + bytes(MAX_DOCUMENT_BYTES - len(PDF))
    assert check_document(data, None).mime == "application/pdf"


def test_empty_file_is_refused():
    with pytest.raises(DomainError) as refused:
        check_document(b"", "empty.jpg")
    assert refused.value.code == "empty_file"
