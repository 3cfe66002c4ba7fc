"""Job: write a de-identified dataset export with the rights of the analyst who asked for it."""

from __future__ import annotations

from typing import Any

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.exports.service import write_export
from crm.extensions import db, runtime
from workers.progress import report


def run(export_id: int, user_id: int) -> dict[str, Any]:
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, user_id)
    with db.unit_of_work(actor) as session:
        return write_export(
            session, actor, runtime.vault, export_id, utcnow().date(), progress=report
        )
