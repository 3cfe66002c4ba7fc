"""Which server process owns which call, and finding the calls of processes that died.

With several processes (REDIS_URL) a console, its calls and their gateway events live in one
process; when that process dies its calls would stay open forever. Each process that places
calls beats a row here; a periodic job ends the open calls of processes that stopped beating."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from crm.auth.actor import SYSTEM, Actor
from crm.db import Database, utcnow
from crm.tenancy import ALL_ORGS
from dialer.models import AgentStateSpan, Call, DialerServer

log = logging.getLogger(__name__)
BEAT_EVERY_SECONDS = 10.0
# a few missed beats (a long GC pause, a slow database) are not yet a death
LOST_AFTER = timedelta(seconds=45)
# rows of servers gone this long are only clutter
FORGET_AFTER = timedelta(days=1)


def beat(session: Session, server_id: str, now: datetime) -> None:
    server = session.get(DialerServer, server_id)
    if server is None:
        session.add(DialerServer(id=server_id, started_at=now, beat_at=now))
    else:
        server.beat_at = now


def lost_calls(session: Session, now: datetime) -> list[Call]:
    """Open calls whose server stopped beating, locked for closing. Calls with no server
    (placed before servers were recorded) are left to the start-up sweep of the embedded mode."""
    alive = select(DialerServer.id).where(DialerServer.beat_at >= now - LOST_AFTER)
    stmt = (
        select(Call)
        .where(Call.state != "ended", Call.server_id.not_in(alive))
        .execution_options(**ALL_ORGS)
        .with_for_update()
    )
    return list(session.scalars(stmt))


def agents_left_on_lost_calls(session: Session, calls: list[Call]) -> list[Actor]:
    """Agents of the (now ended) lost calls still shown dialing or on a call: nobody else will
    change that. One whose console came back through another server and is on a new call
    there has moved on."""
    agent_ids = {call.agent_id for call in calls if call.agent_id is not None}
    busy_elsewhere = exists().where(Call.agent_id == AgentStateSpan.user_id, Call.state != "ended")
    stmt = select(AgentStateSpan.user_id, AgentStateSpan.org_id).where(
        AgentStateSpan.user_id.in_(agent_ids),
        AgentStateSpan.ended_at.is_(None),
        AgentStateSpan.state.in_(("dialing", "on_call")),
        ~busy_elsewhere,
    )
    rows = session.execute(stmt.execution_options(**ALL_ORGS)) if agent_ids else []
    return [Actor(user_id, org_id, "agent", None, frozenset()) for user_id, org_id in rows]


def forget_dead_servers(session: Session, now: datetime) -> None:
    session.execute(delete(DialerServer).where(DialerServer.beat_at < now - FORGET_AFTER))


class Heartbeat:
    """This process's id and its beat, started by the first call it places."""

    def __init__(self, db: Database, every: float = BEAT_EVERY_SECONDS) -> None:
        # named at the first call, in the process placing it: an app built before a fork
        # (gunicorn --preload) must not give its workers one shared id
        self.server_id: str | None = None
        self._db, self._every = db, every
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        """Beat once now, so the row exists before any call names this server, then keep
        beating in the background."""
        with self._lock:
            if self._thread is not None:
                return
            self.server_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
            self._beat()
            self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        with self._db.unit_of_work(SYSTEM) as session:
            beat(session, self.server_id, utcnow())

    def _run(self) -> None:
        while True:
            time.sleep(self._every)
            try:
                self._beat()
            except Exception:  # a database hiccup must not stop the beat for good
                log.exception("dialer heartbeat failed")
