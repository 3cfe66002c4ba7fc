"""Re-scores put off by the dialer: leads marked by dispositions, re-scored together once a tick.

A disposition's follow-up changes its lead's engagement, so the score moves; re-scoring inside
the disposition was a tenth of a busy dialer process's work, with the org's settings, its source
figures and the lead's surroundings read again for every call. Batched here, those reads serve
every lead marked within the interval, off the agent's ack. A lead's score lags its last call by
up to the interval; if the process stops first, the nightly org re-score catches it up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.coalescer import Coalescer
from crm.db import Database, utcnow
from crm.leads.models import Lead
from crm.scoring.service import rescore

INTERVAL_SECONDS = 1.0


# (org id, owner id or None, lead id, new score) of each lead re-scored in a tick
Scored = tuple[int, int | None, int, int]


class ScoreRefresh:
    def __init__(
        self,
        db: Database,
        interval: float = INTERVAL_SECONDS,
        on_scored: Callable[[list[Scored]], None] | None = None,
    ) -> None:
        self._db = db
        # told once the new scores are committed (the dialer shows them on the owner's console)
        self._on_scored = on_scored
        self._leads: Coalescer[tuple[int, int]] = Coalescer(
            "score-refresh", self._rescore, interval
        )

    def changed(self, org_id: int, lead_id: int) -> None:
        """The lead's facts moved: it is re-scored at the next tick."""
        self._leads.mark((org_id, lead_id))

    def refresh_marked(self) -> None:
        """Re-score every lead marked since the last time."""
        self._leads.drain()

    def _rescore(self, marked: set[tuple[int, int]]) -> None:
        by_org: defaultdict[int, list[int]] = defaultdict(list)
        for org_id, lead_id in marked:
            by_org[org_id].append(lead_id)
        for org_id, lead_ids in sorted(by_org.items()):
            with self._db.unit_of_work(SYSTEM) as session:
                # locked in id order, like every batch that locks several leads: no deadlock
                leads = session.scalars(
                    select(Lead)
                    .where(Lead.org_id == org_id, Lead.id.in_(lead_ids))
                    .order_by(Lead.id)
                    .with_for_update()
                ).all()
                rescore(session, leads, utcnow())
                scored = [(lead.org_id, lead.owner_id, lead.id, lead.score) for lead in leads]
            if self._on_scored is not None:
                self._on_scored(scored)
