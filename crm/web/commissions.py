"""Commission pages: an agent's month and statements (an org's, for its admins and finance), one
statement with its lines and files, finance's monthly settlement run, and the plan versions.

The data comes from the commissions API (crm/commissions/api.py), which checks its permissions
again on every call; the pages only choose what to show."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, g, render_template

from crm.commissions.plans import period_of
from crm.db import utcnow
from crm.extensions import db
from crm.pools.ownership import org_settings
from crm.web.auth import page

bp = Blueprint("web_commissions", __name__, url_prefix="/commissions")


def _org_month(months_ahead: int) -> str:
    """Last month (-1) or next month (1) as "2026-11", in the user's org's time zone: a month
    is over, and may be settled, when it is over there."""
    with db.unit_of_work(g.web_user.actor, readonly=True) as session:
        zone = ZoneInfo(org_settings(session, g.web_user.org_id).timezone)
    first = utcnow().astimezone(zone).date().replace(day=1)
    if months_ahead < 0:
        return period_of(first - timedelta(days=1))
    return period_of(first + timedelta(days=31))


def _page(template: str, tab: str, **context):
    return render_template(
        f"commissions/{template}.html", active_nav="commissions", active_tab=tab, **context
    )


@bp.get("")
@page("commissions:read")
def statements():
    """The month so far and the user's statements by month; an org's for its admins and
    finance (headquarters: every org's, by month and org)."""
    return _page("statements", "statements", last_month=_org_month(-1))


@bp.get("/statements/<int:statement_id>")
@page("commissions:read")
def statement_detail(statement_id: int):
    """One statement: its lines in words, each loan linked, and the CSV/XLSX/PDF files."""
    return _page("statement_detail", "statements", statement_id=statement_id)


@bp.get("/settlements")
@page("settlements:approve")
def settlements():
    """Settle a month (last month by default) with a progress bar; approve, pay, adjust."""
    return _page("settlements", "settlements", last_month=_org_month(-1))


@bp.get("/plans")
@page("commissions:manage")
def plans():
    """Plan versions per org and the form for a new version (from next month by default)."""
    return _page("plans", "plans", next_month=_org_month(1))
