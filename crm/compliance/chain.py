"""The audit log's hash chain: each entry of an org carries the hash of the one before it, so an
entry edited or deleted in the database breaks the chain at that entry, and verification names it.

An entry's hash is SHA-256 over its content and the previous entry's hash, in one canonical JSON
form. Someone able to write to the database could still rewrite an org's whole chain from some
entry on with fresh hashes; the daily anchors (crm/compliance/anchors.py), exported and kept
elsewhere, are what such a rewrite cannot match."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crm.compliance.models import AuditEntry, AuditHead

# the "previous hash" of an org's first entry
GENESIS = "0" * 64
# what the hash covers: everything an entry says (its id is the database's, not the log's)
HASHED = (
    "org_id",
    "seq",
    "at",
    "user_id",
    "action",
    "lead_id",
    "fields",
    "purpose",
    "ip",
    "method",
    "details",
    "prev_hash",
)
_heads = AuditHead.__table__


def entry_hash(entry: Any) -> str:
    """The hash of an entry (a model or a row with the HASHED attributes)."""
    content = {name: getattr(entry, name) for name in HASHED}
    content["at"] = instant(content["at"])
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def instant(at: datetime) -> str:
    """A time as the hash reads it: UTC to the microsecond, as both databases store it."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def as_stored(details: dict[str, Any]) -> dict[str, Any]:
    """`details` as they will read back from the JSON column (tuples become lists, keys text),
    so the hash written now is the hash verification recomputes."""
    return json.loads(json.dumps(details, default=str))


def append(session: Session, entry: AuditEntry) -> AuditEntry:
    """Number `entry` after its org's newest entry, chain it to that one's hash, and add it.

    Advancing the head locks its row until the transaction ends, so two transactions writing
    to one org's log take their turns instead of both following the same entry."""
    entry.seq, entry.prev_hash = _advance_head(session, entry.org_id)
    entry.hash = entry_hash(entry)
    session.execute(update(_heads).where(_heads.c.org_id == entry.org_id).values(hash=entry.hash))
    session.add(entry)
    return entry


def _advance_head(session: Session, org_id: int) -> tuple[int, str]:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(_heads)
        .values(org_id=org_id, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["org_id"])
    )
    advanced = session.execute(
        update(_heads)
        .where(_heads.c.org_id == org_id)
        .values(seq=_heads.c.seq + 1)
        .returning(_heads.c.seq, _heads.c.hash)
    ).one()
    return advanced.seq, advanced.hash
