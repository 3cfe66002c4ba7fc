"""Dialer REST endpoints: call log, do-not-call list, caller IDs, the telephony webhook."""

from __future__ import annotations

from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.extensions import runtime
from crm.http import ApiBlueprint
from crm.queries import add_unique, paginate
from crm.schemas import Page, PageArgs
from dialer import dnc, service, sessions
from dialer.gateways.base import CallEvent
from dialer.models import CallerId
from dialer.schemas import (
    CallAwaitingOut,
    CallerIdOut,
    CallFilters,
    CallOut,
    DncOut,
    NewCallerId,
    NewDnc,
    TelephonyEvent,
)
from dialer.webhook import verify_signature

bp = ApiBlueprint("dialer", __name__, tag="dialer")


@bp.endpoint("/calls", query=CallFilters, response=Page[CallOut], permission="leads:read")
def call_log(session: Session, actor: Actor, query: CallFilters):
    """Calls of the visible orgs; agents see their own calls only."""
    return service.call_log(session, actor, query)


@bp.endpoint(
    "/calls/awaiting-outcome",
    query=PageArgs,
    response=Page[CallAwaitingOut],
    permission="calls:dial",
)
def calls_awaiting_outcome(session: Session, actor: Actor, query: PageArgs):
    """My calls that ended without an outcome, newest first: each stays here until given one."""
    return sessions.awaiting_page(session, actor.user_id, query)


@bp.endpoint("/dnc", "POST", body=NewDnc, response=DncOut, status=201, permission="dnc:manage")
def add_dnc(session: Session, actor: Actor, body: NewDnc):
    """Put a number on the do-not-call list (idempotent); it is never dialled again."""
    return dnc.add_number(session, actor, runtime.vault, body.phone, body.reason)


@bp.endpoint("/dnc", query=PageArgs, response=Page[DncOut], permission="dnc:manage")
def list_dnc(session: Session, actor: Actor, query: PageArgs):
    """The org's do-not-call entries (masked)."""
    return dnc.list_entries(session, query)


@bp.endpoint(
    "/caller-ids",
    "POST",
    body=NewCallerId,
    response=CallerIdOut,
    status=201,
    permission="settings:manage",
)
def add_caller_id(session: Session, actor: Actor, body: NewCallerId):
    """Add an outbound number to the org's rotation with its daily cap."""
    caller_id = CallerId(org_id=actor.org_id, number=body.number, daily_cap=body.daily_cap)
    return add_unique(
        session, caller_id, "duplicate_caller_id", "this number is already in the org's pool"
    )


@bp.endpoint(
    "/caller-ids", query=PageArgs, response=Page[CallerIdOut], permission="settings:manage"
)
def list_caller_ids(session: Session, actor: Actor, query: PageArgs):
    """The org's outbound numbers."""
    return paginate(session, select(CallerId).order_by(CallerId.id), query)


# readonly: the event is applied in its own unit of work (shared with the simulated carrier)
@bp.endpoint("/telephony/events", "POST", public=True, readonly=True)
def telephony_event(session: Session, actor: Actor):
    """A provider reports a call's progress (signed with TELEPHONY_WEBHOOK_SECRET)."""
    body = request.get_data()
    verify_signature(
        current_app.config["SETTINGS"].telephony_webhook_secret,
        body,
        request.headers.get("X-Loanline-Signature"),
    )
    event = TelephonyEvent.model_validate_json(body)
    runtime.dialer.on_gateway_event(
        CallEvent(event.call_ref, event.state, event.at, event.end_reason, event.recording_url)
    )
    return {"ok": True}
