"""Retention (DESIGN.md §2): leads with no activity for the org's `retention_days` are
de-identified in place.

The lead row stays, so every aggregate (funnel by source, stage and date; channel ROI; agent
figures) counts it as before; what identifies the person goes: name, phone and ID number (the
phone's blind index is retired, so the same number can come back as a new lead), birth year,
free-text fields, follow-up content, call notes and recordings, and free text in timeline events.
Batches commit on their own and a re-run finds only leads not yet retired."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Row, or_, select, update
from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM
from crm.compliance import audit
from crm.compliance.deidentify import RETIRED_PREFIX
from crm.compliance.pii import PiiVault
from crm.followups.models import Followup
from crm.leads.models import Lead, LeadEvent
from crm.sweeps import BATCH_SIZE, Transaction, in_batches, org_groups
from dialer.models import Call

# timeline event fields that may hold what a person typed (a lost reason, a reveal purpose)
FREE_TEXT_KEYS = frozenset({"reason", "purpose", "note", "content", "remark"})
# cleared on the lead itself; the rest (stage, source, city, owner, dates, score) feeds reports
_CLEARED = {
    "name_enc": None,
    "name_bidx": None,
    "name_masked": None,
    "id_number_enc": None,
    "id_number_bidx": None,
    "id_number_masked": None,
    "phone_masked": "",
    "birth_year": None,
    "purpose": None,
    "remark": None,
    "lost_reason": None,
    "next_followup_at": None,
}


def idle_since(cut: datetime) -> list[Any]:
    """No activity since `cut`: not created, claimed, followed up or moved along the funnel.
    (Not `updated_at`: a batch re-score touches every lead without anyone contacting it.)"""
    return [
        Lead.created_at < cut,
        *(
            or_(column.is_(None), column < cut)
            for column in (Lead.claimed_at, Lead.last_followup_at, Lead.stage_changed_at)
        ),
    ]


def retire_expired(
    transaction: Transaction, vault: PiiVault, now: datetime, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """De-identify every lead idle for its org's `retention_days`; returns how many."""
    counts: Counter[str] = Counter()
    for days, org_ids in org_groups(transaction, lambda s: s.retention_days).items():
        due = select(Lead).where(
            Lead.org_id.in_(org_ids),
            ~Lead.phone_bidx.startswith(RETIRED_PREFIX),
            *idle_since(now - timedelta(days=days)),
        )
        counts += in_batches(
            transaction, due, batch_size, partial(_deidentify, vault=vault, days=days)
        )
    return {"deidentified": counts["deidentified"]}


def _deidentify(
    session: Session, rows: Sequence[Row[Any]], *, vault: PiiVault, days: int
) -> Counter[str]:
    by_org: defaultdict[int, list[int]] = defaultdict(list)
    # the column is NOT NULL and the dialer and rotation read it: an empty value, sealed
    empty_phone = vault.cipher.encrypt("", "lead.phone")
    for (lead,) in rows:
        for column, value in _CLEARED.items():
            setattr(lead, column, value)
        lead.phone_enc = empty_phone
        lead.pii_key_id = vault.active_key_id
        # unique per lead and never a real index, so the number itself is free to return
        lead.phone_bidx = f"{RETIRED_PREFIX}{lead.id}"
        by_org[lead.org_id].append(lead.id)
    ids = [lead.id for (lead,) in rows]
    _scrub_activity(session, ids)
    for org_id, lead_ids in by_org.items():
        audit.record(
            session,
            SYSTEM,
            "retention_deidentify",
            org_id,
            fields=["name", "phone", "id_number"],
            purpose=f"no activity for {days} days",
            details={"leads": len(lead_ids), "lead_ids": lead_ids},
        )
    return Counter(deidentified=len(rows))


def _scrub_activity(session: Session, lead_ids: list[int]) -> None:
    bulk = {"synchronize_session": False}
    session.execute(
        update(Followup).where(Followup.lead_id.in_(lead_ids)).values(content=""),
        execution_options=bulk,
    )
    session.execute(
        update(Call)
        .where(Call.lead_id.in_(lead_ids))
        .values(note=None, recording_url=None, privacy_number=None),
        execution_options=bulk,
    )
    for event in session.scalars(select(LeadEvent).where(LeadEvent.lead_id.in_(lead_ids))):
        if FREE_TEXT_KEYS & event.data.keys():
            event.data = {k: v for k, v in event.data.items() if k not in FREE_TEXT_KEYS}
