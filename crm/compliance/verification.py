"""Checking the audit chains: every entry of an org in order, each one's hash recomputed and
linked to the one before, against the chain head and the anchors; the first break is named."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.compliance.anchors import Anchor
from crm.compliance.chain import GENESIS, HASHED, entry_hash
from crm.compliance.models import AuditEntry, AuditHead
from crm.orgs.models import Org

BATCH = 5000
_COLUMNS = [AuditEntry.id, *(getattr(AuditEntry, name) for name in HASHED), AuditEntry.hash]


@dataclass(frozen=True)
class ChainBreak:
    """The first place an org's chain does not hold: the entry number (and its id, unless the
    entry is gone), what is wrong, and a sentence for the operator."""

    seq: int
    entry_id: int | None
    problem: str  # altered | rewritten | missing | anchor_mismatch
    message: str


@dataclass(frozen=True)
class ChainReport:
    org_id: int
    entries: int
    anchors_checked: int
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


@dataclass
class _Walk:
    """Where the walk along one chain has got to."""

    org_id: int
    anchors: dict[int, list[Anchor]]
    seq: int = 0
    hash: str = GENESIS
    entry_id: int | None = None
    anchors_checked: int = 0


def verify_orgs(
    session: Session, anchors: Iterable[Anchor] = (), org_id: int | None = None
) -> list[ChainReport]:
    """A report for each org the session's actor sees (or just `org_id`)."""
    stmt = select(Org.id).order_by(Org.id)
    if org_id is not None:
        stmt = stmt.where(Org.id == org_id)
    by_org: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        by_org.setdefault(anchor.org_id, []).append(anchor)
    return [verify_org(session, oid, by_org.get(oid, [])) for oid in session.scalars(stmt)]


def verify_org(session: Session, org_id: int, anchors: Iterable[Anchor] = ()) -> ChainReport:
    walk = _Walk(org_id, {})
    for anchor in anchors:
        walk.anchors.setdefault(anchor.seq, []).append(anchor)
    found = _walk_entries(session, walk) or _check_head(session, walk) or _check_beyond(walk)
    return ChainReport(org_id, walk.seq, walk.anchors_checked, found)


def _walk_entries(session: Session, walk: _Walk) -> ChainBreak | None:
    for entry in _entries(session, walk.org_id):
        expected = walk.seq + 1
        if entry.seq != expected:
            return ChainBreak(
                expected,
                None,
                "missing",
                f"entry #{expected} of org {walk.org_id} is missing: the chain goes from "
                f"#{walk.seq} (id {walk.entry_id}) to #{entry.seq} (id {entry.id})",
            )
        if entry_hash(entry) != entry.hash:
            return ChainBreak(
                entry.seq,
                entry.id,
                "altered",
                f"entry #{entry.seq} (id {entry.id}) of org {walk.org_id} was altered: "
                "its content no longer matches its hash",
            )
        if entry.prev_hash != walk.hash:
            if walk.entry_id is None:  # the first entry, rewritten to follow something else
                walk.seq, walk.entry_id = entry.seq, entry.id
            return _rewritten(walk, f"entry #{entry.seq} (id {entry.id}) follows another hash")
        for anchor in walk.anchors.get(entry.seq, []):
            walk.anchors_checked += 1
            if anchor.hash != entry.hash:
                return ChainBreak(
                    entry.seq,
                    entry.id,
                    "anchor_mismatch",
                    f"entry #{entry.seq} (id {entry.id}) of org {walk.org_id} differs from the "
                    f"anchor of {anchor.day}: the chain was rewritten up to here",
                )
        walk.seq, walk.hash, walk.entry_id = entry.seq, entry.hash, entry.id
    return None


def _check_head(session: Session, walk: _Walk) -> ChainBreak | None:
    head = session.get(AuditHead, walk.org_id)
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if head_seq > walk.seq:
        return _missing_at_end(walk, head_seq, "the chain head")
    if head_seq < walk.seq or head_hash != walk.hash:
        return _rewritten(walk, "the chain head records another")
    return None


def _check_beyond(walk: _Walk) -> ChainBreak | None:
    """An anchor past the newest entry: entries were deleted from the end, head and all."""
    later = [seq for seq in walk.anchors if seq > walk.seq]
    if later:
        day = walk.anchors[max(later)][0].day
        return _missing_at_end(walk, max(later), f"the anchor of {day}")
    return None


def _missing_at_end(walk: _Walk, recorded: int, where: str) -> ChainBreak:
    return ChainBreak(
        walk.seq + 1,
        None,
        "missing",
        f"entries #{walk.seq + 1} to #{recorded} of org {walk.org_id} are missing: {where} "
        f"records #{recorded}, the newest entry is #{walk.seq}",
    )


def _rewritten(walk: _Walk, evidence: str) -> ChainBreak:
    """Entry `walk.seq` matches its own hash, but not what followed it: it was replaced,
    hash and all."""
    return ChainBreak(
        walk.seq,
        walk.entry_id,
        "rewritten",
        f"entry #{walk.seq} (id {walk.entry_id}) of org {walk.org_id} was rewritten with a new "
        f"hash: {evidence}",
    )


def _entries(session: Session, org_id: int) -> Iterator:
    """The org's entries in chain order, a batch at a time (keyset on the unique (org, seq))."""
    after = 0
    while True:
        batch = session.execute(
            select(*_COLUMNS)
            .where(AuditEntry.org_id == org_id, AuditEntry.seq > after)
            .order_by(AuditEntry.seq)
            .limit(BATCH)
        ).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].seq
