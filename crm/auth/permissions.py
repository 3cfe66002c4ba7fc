"""Roles map to permissions; authorization everywhere asks for a permission, never a role."""

from __future__ import annotations

ROLES = (
    "admin",
    "manager",
    "team_lead",
    "agent",
    "reviewer",
    "finance",
    "partner_admin",
    "partner_agent",
)
HQ_ROLES = frozenset(ROLES) - {"partner_admin", "partner_agent"}
# a partner office reviews its own applications (进件) before they go to the lender
PARTNER_ROLES = frozenset({"partner_admin", "partner_agent", "team_lead", "reviewer"})

_AGENT = {
    "leads:read",
    "leads:write",
    "leads:claim",
    "followups:write",
    "calls:dial",
    # matching, applications with their documents and contracts, loans and collection notes
    "products:read",
    "applications:read",
    "applications:write",
    "loans:read",
    "collections:write",
    # their own commission statements and month so far
    "commissions:read",
}
# recording what the lender did: disbursement, and repayments received
_LOAN_BOOK = {"loans:read", "loans:manage"}
_LEAD_MANAGER = _AGENT | {
    "leads:assign",
    # across the whole org; a team lead's leads:assign stays within their team
    "leads:assign_org",
    "leads:import",
    "leads:export",
    "pii:reveal",
    "reports:read",
    "audit:read",
    "users:manage",
    "teams:manage",
    "settings:manage",
    "dnc:manage",
    # de-identified datasets for analysis (crm/exports): no personal data leaves in them
    "data:deidentified_export",
    "products:manage",
    "applications:review",
    *_LOAN_BOOK,
    # every statement of the org (partner admins: their office's)
    "commissions:org",
}
# headquarters' finance: plans, settlement runs, approval and payment of statements
_SETTLEMENT = {"commissions:read", "commissions:org", "commissions:manage", "settlements:approve"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        _LEAD_MANAGER
        | {
            "orgs:manage",
            "orgs:all",
            "pii:export",
            *_SETTLEMENT,
        }
    ),
    "manager": frozenset(_LEAD_MANAGER | {"orgs:all"}),
    "team_lead": frozenset(_AGENT | {"leads:assign", "reports:read"}),
    "agent": frozenset(_AGENT),
    "reviewer": frozenset(
        {
            "leads:read",
            "products:read",
            "applications:read",
            "applications:review",
            "loans:read",
            "orgs:all",
        }
    ),
    # finance records payouts, so it reads the applications it pays out (not the lead lists)
    "finance": frozenset(
        {"reports:read", "products:read", "applications:read", "orgs:all"}
        | _LOAN_BOOK
        | _SETTLEMENT
    ),
    "partner_admin": frozenset(_LEAD_MANAGER),
    "partner_agent": frozenset(_AGENT),
}

# Who may hand out which role: nobody grants a role above their own, so a partner admin
# cannot mint an admin and a manager cannot mint another manager.
GRANTABLE: dict[str, frozenset[str]] = {
    "admin": frozenset(ROLES),
    # not finance: it approves settlements, which a manager may not
    "manager": frozenset({"team_lead", "agent", "reviewer"}),
    "partner_admin": frozenset({"partner_agent", "team_lead", "reviewer"}),
}

# HQ-wide visibility belongs to headquarters; the same role in a partner org sees only that org.
_HQ_ONLY = frozenset({"orgs:all", "orgs:manage", "commissions:manage", "settlements:approve"})


def permissions_for(role: str, org_kind: str) -> frozenset[str]:
    granted = ROLE_PERMISSIONS[role]
    return granted if org_kind == "hq" else granted - _HQ_ONLY


def roles_allowed_in(org_kind: str) -> frozenset[str]:
    return HQ_ROLES if org_kind == "hq" else PARTNER_ROLES
