"""Key rotation for personal data: re-encrypt leads still sealed with a retired key, in batches."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.compliance.pii import PII_FIELDS, PiiVault
from crm.leads.models import Lead


def reencrypt_batch(session: Session, vault: PiiVault, batch_size: int) -> int:
    """Move up to `batch_size` leads to the active key; returns how many moved (0 = done)."""
    stale = select(Lead).where(Lead.pii_key_id != vault.active_key_id).limit(batch_size)
    if session.get_bind().dialect.name == "postgresql":
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
