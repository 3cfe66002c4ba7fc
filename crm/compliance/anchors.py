"""Daily anchors of the audit chains: each org's chain head (entry number and hash) as it was on a
day, written by a daily job for an operator to export and keep away from the database. A chain
rewritten later, however carefully re-hashed, no longer matches the anchors kept elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.compliance.models import AuditAnchor, AuditHead
from crm.errors import DomainError
from crm.queries import paginate
from crm.schemas import PageArgs, PageResult
from crm.tenancy import ALL_ORGS


@dataclass(frozen=True)
class Anchor:
    """What an anchor asserts: entry `seq` of `org_id`'s chain had hash `hash` on `day`."""

    org_id: int
    day: date
    seq: int
    hash: str

    def as_json(self) -> str:
        return json.dumps(
            {"org_id": self.org_id, "day": self.day.isoformat(), "seq": self.seq, "hash": self.hash}
        )


def anchor_heads(session: Session, day: date) -> int:
    """Anchor every org's chain head for `day` (once: a second run that day keeps the first);
    returns how many anchors were written."""
    anchored = set(
        session.scalars(
            select(AuditAnchor.org_id).where(AuditAnchor.day == day).execution_options(**ALL_ORGS)
        )
    )
    heads = session.scalars(select(AuditHead).where(AuditHead.seq > 0)).all()
    written = [
        AuditAnchor(org_id=head.org_id, day=day, seq=head.seq, hash=head.hash)
        for head in heads
        if head.org_id not in anchored
    ]
    session.add_all(written)
    return len(written)


def stored_anchors(session: Session, since: date | None = None) -> Iterator[Anchor]:
    """The anchors of the orgs the session's actor sees, oldest first."""
    stmt = select(AuditAnchor).order_by(AuditAnchor.day, AuditAnchor.org_id)
    if since is not None:
        stmt = stmt.where(AuditAnchor.day >= since)
    for row in session.scalars(stmt):
        yield Anchor(row.org_id, row.day, row.seq, row.hash)


def list_anchors(session: Session, args: PageArgs) -> PageResult:
    stmt = select(AuditAnchor).order_by(AuditAnchor.day.desc(), AuditAnchor.org_id)
    return paginate(session, stmt, args)


def read_exported(lines: Iterable[str]) -> list[Anchor]:
    """Anchors as `export-audit-anchors` wrote them, one JSON object a line."""
    anchors = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            anchors.append(
                Anchor(
                    int(fields["org_id"]),
                    date.fromisoformat(fields["day"]),
                    int(fields["seq"]),
                    str(fields["hash"]),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DomainError(
                "invalid_anchor_file", f"line {number} is not an exported anchor ({exc})"
            ) from exc
    return anchors
