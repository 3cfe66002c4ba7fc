"""Socket.IO namespace /dialer: the agent console's live channel (thin: calls dialer.operations)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError

from crm.auth.actor import Actor
from crm.auth.service import actor_from_token, refresh_actor
from crm.errors import DomainError
from crm.extensions import db, runtime
from dialer.schemas import (
    AgentStateIn,
    AutoModeIn,
    DialIn,
    DispositionIn,
    HangupIn,
    NextLeadIn,
    ResumeIn,
)
from dialer.sessions import ReconnectGrace

log = logging.getLogger(__name__)


def refused(code: str, message: str) -> ConnectionRefusedError:
    # clients read the human text as err.message and the machine code as err.data
    return ConnectionRefusedError(message, {"code": code})


def authenticate(auth: Any) -> Actor:
    """The console's JWT, checked like an API request's; refused connections get a reason.

    A browser holds it in the HttpOnly `access_token` cookie, which its scripts cannot read to
    send as auth.token; SameSite=Strict and same-origin CORS keep other sites from using it."""
    token = auth.get("token") if isinstance(auth, dict) else None
    token = token or request.cookies.get("access_token")
    try:
        provisional = actor_from_token(
            token, current_app.config["SETTINGS"], ip=request.remote_addr, required=True
        )
        with db.unit_of_work(provisional, readonly=True) as session:
            return refresh_actor(session, provisional)
    except DomainError as err:
        raise refused(err.code, err.message) from err


class DialerNamespace(Namespace):
    def __init__(self, namespace: str = "/dialer") -> None:
        super().__init__(namespace)
        self.actors: dict[str, Actor] = {}
        # looked up when a grace period ends: the dialer is built after the namespaces
        self.grace = ReconnectGrace(lambda actor: runtime.dialer.console_lost(actor))

    def on_connect(self, auth: Any = None) -> None:
        """Console connects with {token}; joins its user, team and org rooms."""
        actor = authenticate(auth)
        if not actor.can("calls:dial"):
            raise refused("forbidden", "only agents can use the dialer console")
        self.actors[request.sid] = actor
        self.grace.returned(actor.user_id)
        for room in (
            f"user:{actor.user_id}",
            f"org:{actor.org_id}",
            f"team:{actor.team_id}" if actor.team_id else None,
        ):
            if room:
                join_room(room)

    def on_disconnect(self, reason: Any = None) -> None:
        """Console gone: unless it (or another of the agent's) comes back within the grace
        period, the agent's open calls are closed with a reason and the agent goes offline."""
        actor = self.actors.pop(request.sid, None)
        # a process shutting down has ended its calls already (crm/serving.py), and the agent
        # reconnects through another process, whose calls this one must not touch
        if runtime.draining.is_set():
            return
        # an agent with a second console (a reload, another tab) keeps the call going
        if actor is not None and not any(a.user_id == actor.user_id for a in self.actors.values()):
            self.grace.left(actor, runtime.settings.console_grace_seconds)

    def on_resume(self, data: Any = None) -> dict:
        """Console (after connecting) → {}; answers the agent's state, the call still up, the
        calls waiting for an outcome and auto mode."""
        return self._run(ResumeIn, data or {}, lambda a, d: runtime.dialer.resume(a))

    def on_agent_state(self, data: Any) -> dict:
        """Agent → {state}; answers {ok}."""
        return self._run(AgentStateIn, data, lambda a, d: runtime.dialer.change_state(a, d.state))

    def on_dial(self, data: Any) -> dict:
        """Agent → {lead_id}; answers {ok, call_id} or {ok: false, code} from the guards."""
        return self._run(
            DialIn,
            data,
            lambda a, d: {"call_id": runtime.dialer.dial(a, d.lead_id, d.claim_on_connect)},
        )

    def on_hangup(self, data: Any) -> dict:
        """Agent → {call_id}; the end arrives as a call_state event."""
        return self._run(HangupIn, data, lambda a, d: runtime.dialer.hangup(a, d.call_id))

    def on_disposition(self, data: Any) -> dict:
        """Agent → {call_id, disposition, note?, next_followup_at?, stage?}; one transaction."""
        return self._run(DispositionIn, data, lambda a, d: runtime.dialer.disposition(a, d))

    def on_next_lead(self, data: Any) -> dict:
        """Agent → {city?, auto_dial?}; the best public lead, theirs once the callee answers."""
        return self._run(NextLeadIn, data or {}, lambda a, d: runtime.dialer.next_lead(a, d))

    def on_auto_mode(self, data: Any) -> dict:
        """Agent → {enabled, city?}; on: dials the best public lead now ({lead, call_id}) and the
        next after each disposition, until the pool is empty, a guard refuses or a break."""
        return self._run(AutoModeIn, data, self._auto_mode)

    @staticmethod
    def _auto_mode(actor: Actor, data: AutoModeIn) -> dict | None:
        if data.enabled:
            return runtime.dialer.start_auto_mode(actor, data.city)
        runtime.dialer.stop_auto_mode(actor, "off", "auto mode turned off")
        return None

    @staticmethod
    def _current(actor: Actor) -> Actor:
        """The agent as their row says now, for each event as for each API request: a console
        left open stops working the moment its agent is deactivated (401 invalid_token) or
        moved to a role without the dialer (403 forbidden)."""
        with db.unit_of_work(actor, readonly=True) as session:
            current = refresh_actor(session, actor)
        current.require("calls:dial")
        return current

    def _run(
        self, schema: type[BaseModel], data: Any, action: Callable[[Actor, Any], dict | None]
    ) -> dict:
        actor = self.actors.get(request.sid)
        if actor is None:
            return {"ok": False, "code": "unauthorized", "message": "reconnect and log in"}
        try:
            actor = self._current(actor)
            # JSON mode: strict types, but ISO strings for datetimes, exactly as the HTTP API
            parsed = schema.model_validate_json(json.dumps(data if isinstance(data, dict) else {}))
            return {"ok": True, **(action(actor, parsed) or {})}
        except ValidationError as err:
            return {
                "ok": False,
                "code": "validation_error",
                "message": "; ".join(e["msg"] for e in err.errors()),
            }
        except DomainError as err:
            return {"ok": False, "code": err.code, "message": err.message}
        except OperationalError:
            # the database restarting: the transaction rolled back, the console may retry (an
            # exception here would leave the console waiting for an ack that never comes)
            log.warning("database unavailable during a console event", exc_info=True)
            return {
                "ok": False,
                "code": "database_unavailable",
                "message": "the database is unavailable; try again in a moment",
            }
