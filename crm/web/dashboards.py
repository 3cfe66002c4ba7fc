"""Manager pages: the funnel dashboard, the live wallboard and the wall-TV big screen (数据大屏).

The pages read the report API (crm/reports/api.py)."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from crm.leads.models import FUNNEL
from crm.web.auth import page

bp = Blueprint("web_dashboards", __name__)


@bp.get("/dashboard")
@page("reports:read")
def dashboard():
    """Funnel, agent productivity and channel ROI for a period; grouping by org is HQ's."""
    return render_template(
        "dashboard.html",
        active_nav="dashboard",
        groupings=_groupings(),
        stages=FUNNEL,
    )


@bp.get("/wallboard")
@page("reports:read")
def wallboard():
    """Live agent states, calls in progress and today's KPIs, pushed over /wallboard."""
    return render_template("wallboard.html", active_nav="wallboard")


@bp.get("/bigscreen")
@page("reports:read")
def bigscreen():
    """Full-screen dark view for a wall TV; it may be framed (see crm/web/security.py)."""
    return render_template("bigscreen.html", stages=FUNNEL)


def _groupings() -> list[str]:
    groupings = ["source", "team", "agent", "city"]
    if g.web_user.can("orgs:all"):  # other orgs' names are headquarters' to see
        groupings.insert(3, "org")
    return groupings
