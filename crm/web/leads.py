"""Lead pages: the searchable list with bulk actions, and one lead's detail."""

from __future__ import annotations

from flask import Blueprint, render_template

from crm.funnel.stages import BY_HAND
from crm.leads.models import STAGES
from crm.web.auth import page

bp = Blueprint("web_leads", __name__)


@bp.get("/leads")
@page("leads:read")
def lead_list():
    """Filters, sort and paging live in the query string so a list can be bookmarked."""
    return render_template("leads/list.html", active_nav="leads", stages=STAGES)


@bp.get("/leads/<int:lead_id>")
@page("leads:read")
def lead_detail(lead_id: int):
    """The API answers 404 for another org's lead; the page shows that message and nothing of
    a lead (no forms for one that is not there)."""
    transitions = {stage: sorted(targets) for stage, targets in BY_HAND.items()}
    return render_template(
        "leads/detail.html",
        active_nav="leads",
        lead_id=lead_id,
        stages=STAGES,
        transitions=transitions,
    )
