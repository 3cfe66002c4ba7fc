"""Today's KPIs pushed to the wallboards: at most once per org per interval, off the call path.

Every call end and disposition changes an org's figures, and working them out scans the org's
calls of the day: done inside each event's transaction, a busy floor (20 calls/s, 50,000 calls
by evening) paid a growing aggregate twice per call, on the thread the agent's ack waited for.
Here an event only marks its org; a background thread works each marked org's figures out once
per interval and pushes them, so a wallboard stays live (within a second) whatever the call rate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm.auth.actor import SYSTEM
from crm.coalescer import Coalescer
from crm.db import Database, utcnow
from dialer.kpis import kpis_today

INTERVAL_SECONDS = 1.0
Push = Callable[[str, dict[str, Any], str, str], None]  # (event, data, room, namespace)


class KpiPushes:
    def __init__(self, db: Database, push: Push, interval: float = INTERVAL_SECONDS) -> None:
        self._db, self._push = db, push
        self._orgs: Coalescer[int] = Coalescer("kpi-pushes", self._push_figures, interval)

    def changed(self, org_id: int) -> None:
        """The org's figures moved: its wallboards get them at the next tick."""
        self._orgs.mark(org_id)

    def push_marked(self) -> None:
        """Work out and push the figures of every org marked since the last time."""
        self._orgs.drain()

    def _push_figures(self, org_ids: set[int]) -> None:
        for org_id in sorted(org_ids):
            with self._db.unit_of_work(SYSTEM, readonly=True) as session:
                figures = kpis_today(session, org_id, utcnow())
            self._push("kpis", figures, f"org:{org_id}", "/wallboard")
