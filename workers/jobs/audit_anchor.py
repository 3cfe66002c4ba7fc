"""Job: anchor every org's audit chain head for today (see crm/compliance/anchors.py)."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.compliance.anchors import anchor_heads
from crm.db import utcnow
from crm.extensions import db


def run() -> dict[str, int]:
    """How many orgs' heads were anchored; a second run on the same day adds nothing."""
    with db.unit_of_work(SYSTEM) as session:
        return {"anchored": anchor_heads(session, utcnow().date())}
