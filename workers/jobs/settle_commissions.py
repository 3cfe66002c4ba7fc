"""Job: settle one month of commission for a list of orgs, each in its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from crm.auth.actor import SYSTEM
from crm.commissions.models import Settlement
from crm.commissions.settlement import settle
from crm.errors import DomainError
from crm.extensions import db
from workers.progress import report


def run(settlement_ids: list[int]) -> dict[str, Any]:
    """Idempotent: a retry recomputes drafts the same way and skips approved settlements, so a
    worker killed half way through leaves nothing counted twice."""
    results = []
    for done, settlement_id in enumerate(settlement_ids):
        _mark(settlement_id, status="running", error=None)
        try:
            with db.unit_of_work(SYSTEM) as session:
                results.append(
                    settle(
                        session,
                        settlement_id,
                        progress=lambda f, done=done: report((done + f) / len(settlement_ids)),
                    )
                )
        except DomainError as exc:
            _mark(settlement_id, status="failed", error=exc.message)
            results.append({"settlement_id": settlement_id, "error": exc.code})
        except Exception:
            _mark(settlement_id, status="failed", error="internal error; the job is retried")
            raise
    return {"settlements": results}


def _mark(settlement_id: int, **values: Any) -> None:
    with db.unit_of_work(SYSTEM) as session:
        session.execute(
            update(Settlement)
            .where(Settlement.id == settlement_id, Settlement.status.not_in(("approved", "paid")))
            .values(**values)
        )
