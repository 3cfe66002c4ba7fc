"""The agent console page (/console): the dialer, the lead in front of the agent, work lists."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from crm.funnel.stages import BY_HAND
from crm.web.auth import page
from dialer.models import DISPOSITIONS

bp = Blueprint("web_console", __name__)


@bp.get("/console")
@page("calls:dial")
def console():
    """Everything live comes over the /dialer socket; the page carries the funnel's rules."""
    return render_template(
        "console.html",
        active_nav="console",
        dispositions=DISPOSITIONS,
        console_data={
            "transitions": {k: sorted(v) for k, v in BY_HAND.items()},
            "can_match": g.web_user.can("products:read"),
        },
    )
