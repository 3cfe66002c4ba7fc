"""Admin pages: orgs, teams, users, roles, org settings, caller IDs, DNC list and the audit log.

Each section is one page whose data comes from the JSON API; the API scopes a partner admin to
their own org, so the pages need no scoping of their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template
from flask_babel import gettext as _

from crm.auth.permissions import GRANTABLE, ROLE_PERMISSIONS, ROLES
from crm.web.auth import page

bp = Blueprint("web_admin", __name__, url_prefix="/admin")


def role_labels() -> dict[str, str]:
    """Role names in the user's language; page scripts get them through the page's data."""
    return {
        "admin": _("Administrator"),
        "manager": _("Manager"),
        "team_lead": _("Team lead"),
        "agent": _("Agent"),
        "reviewer": _("Reviewer"),
        "finance": _("Finance"),
        "partner_admin": _("Partner admin"),
        "partner_agent": _("Partner agent"),
    }


def _roles_context() -> dict[str, Any]:
    """Who may do what: the role → permission table the server enforces."""
    permissions = sorted(set().union(*ROLE_PERMISSIONS.values()))
    return {"roles": ROLES, "matrix": ROLE_PERMISSIONS, "permissions": permissions}


# section -> (the permission needed to open it, extra template context); the API checks its
# own permissions again on every call the page makes
SECTIONS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "users": ("users:manage", lambda: {"roles": ROLES, "grantable": GRANTABLE}),
    "teams": ("teams:manage", dict),
    "orgs": ("users:manage", dict),
    "roles": ("users:manage", _roles_context),
    "settings": ("settings:manage", dict),
    "caller-ids": ("settings:manage", dict),
    "dnc": ("dnc:manage", dict),
    "audit": ("audit:read", dict),
}


@bp.get("/")
@page("users:manage")
def admin_home():
    return redirect("/admin/users")


def _section_view(name: str, permission: str, context: Callable[[], dict[str, Any]]):
    @page(permission)
    def view():
        return render_template(
            f"admin/{name.replace('-', '_')}.html",
            active_nav="admin",
            active_section=name,
            section_permissions={section: p for section, (p, _ctx) in SECTIONS.items()},
            role_labels=role_labels(),
            **context(),
        )

    return view


for _name, (_permission, _context) in SECTIONS.items():
    bp.add_url_rule(
        f"/{_name}", _name.replace("-", "_"), _section_view(_name, _permission, _context)
    )
