"""Job: re-score an org's leads (or an id range) in keyset batches, one transaction each.

The run id is the job id: RQ's retries (after an error, or after a worker died mid-batch and its
job was found abandoned) resume the run where its last committed batch ended."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.scoring import runs
from workers.progress import report


def run(
    run_id: str,
    org_id: int,
    min_lead_id: int | None = None,
    max_lead_id: int | None = None,
    requested_by: int | None = None,
    batch_size: int = runs.BATCH_SIZE,
) -> dict:
    return runs.run(
        lambda: db.unit_of_work(SYSTEM),
        run_id,
        runs.RunRequest(org_id, min_lead_id, max_lead_id),
        requested_by,
        progress=report,
        batch_size=batch_size,
    )
