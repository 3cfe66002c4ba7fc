"""Admin pages: orgs, teams, users, roles, org settings, caller IDs, DNC list, the audit log and
the check of its hash chains.

Each section is one page whose data comes from the JSON API; the API scopes a partner admin to
their own org, so the pages need no scoping of their own. The audit chain page checks the chains
as it renders, in a unit of work of the admin, so the same org scope holds there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, redirect, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from crm.auth.permissions import GRANTABLE, ROLE_PERMISSIONS, ROLES
from crm.compliance.anchors import stored_anchors
from crm.compliance.verification import verify_orgs
from crm.extensions import db
from crm.orgs.models import Org
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


def permission_labels() -> dict[str, str]:
    """What each permission allows, in the user's language (the code stays beside it)."""
    return {
        "leads:read": _("See leads"),
        "leads:write": _("Create and edit leads"),
        "leads:claim": _("Claim leads from the pool"),
        "leads:assign": _("Assign leads (a team lead: within the team)"),
        "leads:assign_org": _("Assign leads across the org"),
        "leads:import": _("Import lead sheets"),
        "leads:export": _("Export lead lists"),
        "followups:write": _("Record follow-ups"),
        "calls:dial": _("Use the dialer console"),
        "pii:reveal": _("Reveal full personal data"),
        "pii:export": _("Export full personal data"),
        "data:deidentified_export": _("Export de-identified datasets"),
        "reports:read": _("See reports and dashboards"),
        "audit:read": _("Read the audit log"),
        "users:manage": _("Manage users"),
        "teams:manage": _("Manage teams"),
        "settings:manage": _("Change org settings, caller IDs and channel prices"),
        "dnc:manage": _("Manage the do-not-call list"),
        "orgs:all": _("See every org (headquarters)"),
        "orgs:manage": _("Create orgs"),
        "products:read": _("See loan products"),
        "products:manage": _("Manage lenders and products"),
        "applications:read": _("See applications"),
        "applications:write": _("Create and submit applications"),
        "applications:review": _("Review applications"),
        "loans:read": _("See loans"),
        "loans:manage": _("Record disbursements and repayments"),
        "collections:write": _("Record collection contacts"),
        "commissions:read": _("See one's own commission"),
        "commissions:org": _("See the org's commission statements"),
        "commissions:manage": _("Manage commission plans and settlements"),
        "settlements:approve": _("Approve and pay settlements"),
    }


def audit_labels() -> dict[str, dict[str, str]]:
    """The audit log's actions and personal-data fields in the user's language."""
    return {
        "actions": {
            "reveal": _("Revealed a lead's personal data"),
            "export": _("Exported leads"),
            "settings_changed": _("Changed org settings"),
            "contract_download": _("Downloaded a contract"),
            "document_download": _("Downloaded a document"),
            "deidentified_export": _("Made a de-identified dataset"),
            "deidentified_download": _("Downloaded a de-identified dataset"),
            "retention_deidentify": _("De-identified leads past retention"),
        },
        "fields": {"phone": _("Phone"), "id_number": _("ID number"), "name": _("Name")},
    }


def _roles_context() -> dict[str, Any]:
    """Who may do what: the role → permission table the server enforces."""
    permissions = sorted(set().union(*ROLE_PERMISSIONS.values()))
    return {
        "roles": ROLES,
        "matrix": ROLE_PERMISSIONS,
        "permissions": permissions,
        "permission_labels": permission_labels(),
    }


def _audit_chain_context() -> dict[str, Any]:
    """Each org the admin sees, its audit chain checked now (the same check as the CLI's)."""
    with db.unit_of_work(g.web_user.actor, readonly=True) as session:
        reports = verify_orgs(session, stored_anchors(session))
        org_names = {org_id: name for org_id, name in session.execute(select(Org.id, Org.name))}
    return {"reports": reports, "org_names": org_names}


# section -> (the permission needed to open it, extra template context); the API checks its
# own permissions again on every call the page makes
SECTIONS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "users": ("users:manage", lambda: {"roles": ROLES, "grantable": GRANTABLE}),
    "teams": ("teams:manage", dict),
    "orgs": ("users:manage", dict),
    "roles": ("users:manage", _roles_context),
    "settings": ("settings:manage", dict),
    "sources": ("settings:manage", dict),
    "caller-ids": ("settings:manage", dict),
    "dnc": ("dnc:manage", dict),
    "audit": ("audit:read", dict),
    "audit-chain": ("audit:read", _audit_chain_context),
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
            audit_labels=audit_labels(),
            **context(),
        )

    return view


for _name, (_permission, _context) in SECTIONS.items():
    bp.add_url_rule(
        f"/{_name}", _name.replace("-", "_"), _section_view(_name, _permission, _context)
    )
