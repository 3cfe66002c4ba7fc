"""Verifying a telephony provider's signed event callbacks."""

from __future__ import annotations

import hashlib
import hmac

from crm.errors import DomainError


def verify_signature(secret: str | None, body: bytes, header: str | None) -> None:
    """`X-Loanline-Signature: sha256=<hex HMAC of the raw body>`; anything else is refused."""
    if not secret:
        raise DomainError("webhook_disabled", "no TELEPHONY_WEBHOOK_SECRET is configured", 404)
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not header or not hmac.compare_digest(expected, header):
        raise DomainError("invalid_signature", "the event's signature does not match", 401)
