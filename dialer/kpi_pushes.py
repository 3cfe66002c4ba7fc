"""Today's KPIs pushed to the wallboards: at most once per org per interval, off the call path.

Every call end and disposition changes an org's figures, and working them out scans the org's
calls of the day: done inside each event's transaction, a busy floor (20 calls/s, 50,000 calls
by evening) paid a growing aggregate twice per call, on the thread the agent's ack waited for.
Here an event only marks its org; a background thread works each marked org's figures out once
per interval and pushes them, so a wallboard stays live (within a second) whatever the call rate."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from crm.auth.actor import SYSTEM
from crm.db import Database, utcnow
from dialer.kpis import kpis_today

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 1.0
Push = Callable[[str, dict[str, Any], str, str], None]  # (event, data, room, namespace)


class KpiPushes:
    def __init__(self, db: Database, push: Push, interval: float = INTERVAL_SECONDS) -> None:
        self._db, self._push, self._interval = db, push, interval
        self._marked: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def changed(self, org_id: int) -> None:
        """The org's figures moved: its wallboards get them at the next tick."""
        with self._lock:
            self._marked.add(org_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kpi-pushes", daemon=True)
                self._thread.start()

    def push_marked(self) -> None:
        """Work out and push the figures of every org marked since the last time."""
        with self._lock:
            marked, self._marked = self._marked, set()
        for org_id in sorted(marked):
            with self._db.unit_of_work(SYSTEM, readonly=True) as session:
                figures = kpis_today(session, org_id, utcnow())
            self._push("kpis", figures, f"org:{org_id}", "/wallboard")

    def _run(self) -> None:
        while True:  # as long as the process
            time.sleep(self._interval)
            try:
                self.push_marked()
            except Exception:  # a database hiccup must not end the wallboards' figures for good
                log.exception("wallboard KPI push failed")
