"""Wallboard KPIs are pushed once per org per interval, however many calls changed them."""

from __future__ import annotations

import pytest

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from dialer.kpi_pushes import KpiPushes
from dialer.models import Call

pytestmark = pytest.mark.integration


def test_a_burst_of_changes_gives_one_push_per_org_with_the_latest_figures(make):
    busy, quiet = make.org(), make.org("partner")
    lead = make.lead(org=busy, phone="13800138000")
    pushed = []
    pushes = KpiPushes(db, lambda *sent: pushed.append(sent), interval=3600)
    for _ in range(3):  # three calls end within one interval
        with db.unit_of_work(SYSTEM) as session:
            now = utcnow()
            session.add(
                Call(
                    org_id=busy.id,
                    lead_id=lead.id,
                    gateway="simulated",
                    state="ended",
                    started_at=now,
                    answered_at=now,
                    ended_at=now,
                    duration_s=30,
                )
            )
        pushes.changed(busy.id)

    pushes.push_marked()
    [(event, figures, room, namespace)] = pushed
    assert (event, room, namespace) == ("kpis", f"org:{busy.id}", "/wallboard")
    assert (figures["calls"], figures["connected"], figures["talk_seconds"]) == (3, 3, 90)

    pushes.push_marked()  # nothing changed since: nothing sent
    assert len(pushed) == 1
    pushes.changed(quiet.id)
    pushes.push_marked()
    assert [(room, figures["calls"]) for _, figures, room, _ in pushed[1:]] == [
        (f"org:{quiet.id}", 0)
    ]
