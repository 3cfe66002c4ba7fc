"""Socket.IO namespace /wallboard: live agent states, calls and today's KPIs for managers."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import Namespace, emit, join_room
from sqlalchemy import select

from crm.db import utcnow
from crm.extensions import db
from crm.orgs.models import Org
from dialer.console import authenticate, refused
from dialer.kpis import kpis_today
from dialer.operations import current_agent_states


class WallboardNamespace(Namespace):
    def __init__(self, namespace: str = "/wallboard") -> None:
        super().__init__(namespace)

    def on_connect(self, auth: Any = None) -> None:
        """A manager's screen connects; gets a snapshot, then every change as it happens."""
        actor = authenticate(auth)
        if not actor.can("reports:read"):
            raise refused("forbidden", "the wallboard is for team leads and managers")
        with db.unit_of_work(actor, readonly=True) as session:
            org_ids = list(session.scalars(select(Org.id)))  # the scope picks the visible orgs
            states = current_agent_states(session, org_ids)
            kpis = [kpis_today(session, org_id, utcnow()) for org_id in org_ids]
        for org_id in org_ids:
            join_room(f"org:{org_id}")
        emit("agent_states", {"agents": states}, to=request.sid)
        for figures in kpis:
            emit("kpis", figures, to=request.sid)
