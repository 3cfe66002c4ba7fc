"""Job: import an uploaded lead sheet with the rights of the user who uploaded it."""

from __future__ import annotations

from typing import Any

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.extensions import db, runtime
from crm.leads.importer import ImportOptions, run_import
from workers.progress import report


def run(upload_id: int, user_id: int, options: dict[str, Any]) -> dict[str, Any]:
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, user_id)
    with db.unit_of_work(actor) as session:
        return run_import(
            session, actor, runtime.vault, upload_id, ImportOptions(**options), progress=report
        )
