"""The classification of every route and Socket.IO event for the tenant-isolation matrix
(tests/integration/test_tenant_isolation.py): what kind of tenant data it touches, and the body it
is sent with, built from org B's object ids (tests/tenant_world.py). A route or event missing
here fails the matrix: classify it when adding it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PUBLIC = "public"  # no login needed, nothing of any org in it
OWN = "own"  # the caller's own things, or a new object in the caller's org
LIST = "list"  # a collection: only the caller's org's rows (HQ: every org's)
OBJECT = "object"  # names an object in the URL: B's is not found (or forbidden), nothing of B
BODY = "body"  # names objects in the body: B's are refused or left alone, nothing of B

Body = Callable[[dict[str, Any]], dict[str, Any]]


def fixed(body: dict[str, Any]) -> Body:
    """The same body whatever B's ids are."""
    return lambda ids: body


def _each(prefix: str, kind: str, body: Body | None, rules: tuple[str, ...]) -> dict:
    """One classification for many routes: "GET /api/v1/" + each rule."""
    return {f"{prefix}{rule}": (kind, body) for rule in rules}


NOW = "2026-11-20T10:00:00+08:00"
PRODUCT = {
    "name": "改名",
    "min_amount": "1000.00",
    "max_amount": "2000.00",
    "min_term_months": 1,
    "max_term_months": 2,
    "apr_min": "0.0800",
    "apr_max": "0.1000",
    "repayment_method": "equal_installment",
    "channel_fee_rate": "0.0100",
}
# the document upload sends a valid multipart form instead of a JSON body
MULTIPART = {"kind": "id_card"}

# "METHOD /rule" -> (class, the JSON body to send, built from B's ids, or None)
ROUTES: dict[str, tuple[str, Body | None]] = {
    # public, or about the caller only
    "POST /api/v1/auth/login": (PUBLIC, None),
    "POST /api/v1/auth/logout": (PUBLIC, None),
    "POST /api/v1/auth/refresh": (PUBLIC, None),
    "POST /api/v1/telephony/events": (PUBLIC, None),  # signed by the provider, or 404
    "GET /api/openapi.json": (PUBLIC, None),
    "GET /healthz": (PUBLIC, None),
    "GET /livez": (PUBLIC, None),
    "GET /readyz": (PUBLIC, None),
    "GET /metrics": (PUBLIC, None),
    "GET /static/<path:filename>": (PUBLIC, None),
    "GET /i18n/messages.json": (PUBLIC, None),
    "GET /lang/<code>": (PUBLIC, None),
    "GET /login": (PUBLIC, None),
    "POST /login": (PUBLIC, None),
    "POST /logout": (PUBLIC, None),
    "POST /auth/refresh": (PUBLIC, None),
    "GET /api/v1/me": (OWN, None),
    "GET /api/v1/notifications": (OWN, None),
    "GET /api/v1/commissions/me": (OWN, None),
    "GET /api/v1/followups/due": (OWN, None),
    "GET /api/v1/followups/scheduled": (OWN, None),
    "GET /api/v1/followups/scheduled/counts": (OWN, None),
    "GET /api/v1/reports/my-day": (OWN, None),
    "GET /api/v1/calls/awaiting-outcome": (OWN, None),
    "POST /api/v1/leads/claim-next": (OWN, fixed({})),
    "POST /api/v1/leads": (OWN, None),
    "POST /api/v1/leads/import": (OWN, None),
    "POST /api/v1/lenders": (OWN, None),
    "POST /api/v1/caller-ids": (OWN, None),
    "POST /api/v1/dnc": (OWN, None),
    "POST /api/v1/sources": (OWN, None),
    "POST /api/v1/contract-templates": (OWN, None),
    "POST /api/v1/exports/deidentified": (OWN, None),
    "POST /api/v1/orgs": (OWN, None),
    # collections
    **_each(
        "GET /api/v1/",
        LIST,
        None,
        (
            "applications",
            "audit",
            "audit/anchors",
            "audit/verify",
            "caller-ids",
            "calls",
            "commission-plans",
            "dnc",
            "leads",
            "leads/assignees",
            "leads/export",
            "leads/overlap",
            "lenders",
            "loans",
            "loans/overdue",
            "orgs",
            "pools",
            "products",
            "reports/agents",
            "reports/channels",
            "reports/funnel",
            "reports/hourly",
            "reports/loan-book",
            "settlements",
            "sources",
            "statements",
            "teams",
            "users",
        ),
    ),
    # B's objects in the URL
    **_each(
        "GET /api/v1/",
        OBJECT,
        None,
        (
            "applications/<int:application_id>",
            "applications/<int:application_id>/commission-estimate",
            "applications/<int:application_id>/contracts/<int:version>.<any(pdf,html):fmt>",
            "applications/<int:application_id>/documents/<int:document_id>",
            "exports/<job_id>/file",
            "jobs/<job_id>",
            "leads/<int:lead_id>",
            "leads/<int:lead_id>/followups",
            "leads/<int:lead_id>/matches",
            "leads/<int:lead_id>/scheduled-followups",
            "leads/<int:lead_id>/timeline",
            "loans/<int:loan_id>",
            "loans/<int:loan_id>/collections",
            "orgs/<int:org_id>/settings",
            "settlements/<int:settlement_id>",
            "statements/<int:statement_id>",
            "statements/<int:statement_id>.<any(csv,xlsx,pdf):fmt>",
        ),
    ),
    **_each(
        "POST /api/v1/",
        OBJECT,
        fixed({}),
        (
            "applications/<int:application_id>/contract",
            "applications/<int:application_id>/review",
            "applications/<int:application_id>/submit",
            "applications/<int:application_id>/contract/sign",
            "leads/<int:lead_id>/claim",
            "settlements/<int:settlement_id>/approve",
            "settlements/<int:settlement_id>/mark-paid",
        ),
    ),
    **_each(
        "PATCH /api/v1/",
        OBJECT,
        fixed({}),
        (
            "applications/<int:application_id>",
            "leads/<int:lead_id>",
            "orgs/<int:org_id>/settings",
            "sources/<int:source_id>",
            "users/<int:user_id>",
        ),
    ),
    "POST /api/v1/applications/<int:application_id>/cancel": (OBJECT, fixed({"reason": "x"})),
    "POST /api/v1/applications/<int:application_id>/decision": (
        OBJECT,
        fixed({"decision": "approve", "note": "ok"}),
    ),
    "POST /api/v1/applications/<int:application_id>/disburse": (
        OBJECT,
        fixed({"amount": "1000.00", "disbursed_at": NOW}),
    ),
    "POST /api/v1/applications/<int:application_id>/documents": (OBJECT, fixed(MULTIPART)),
    "POST /api/v1/leads/<int:lead_id>/followups": (
        OBJECT,
        fixed({"channel": "call", "content": "跟进"}),
    ),
    "POST /api/v1/leads/<int:lead_id>/release": (OBJECT, fixed({"reason": "x"})),
    "POST /api/v1/leads/<int:lead_id>/reveal": (
        OBJECT,
        fixed({"fields": ["phone"], "purpose": "核实身份"}),
    ),
    "POST /api/v1/leads/<int:lead_id>/stage": (OBJECT, fixed({"stage": "contacted"})),
    "POST /api/v1/loans/<int:loan_id>/cancel": (OBJECT, fixed({"reason": "x"})),
    "POST /api/v1/loans/<int:loan_id>/collections": (
        OBJECT,
        fixed({"channel": "call", "content": "催收"}),
    ),
    "POST /api/v1/loans/<int:loan_id>/fees/<any(service_fee,channel_fee):fee>/collected": (
        OBJECT,
        fixed({"collected_at": NOW}),
    ),
    "POST /api/v1/loans/<int:loan_id>/repayments": (
        OBJECT,
        fixed({"amount": "100.00", "paid_at": NOW}),
    ),
    "PUT /api/v1/products/<int:product_id>": (OBJECT, fixed(PRODUCT)),
    "PUT /api/v1/products/<int:product_id>/offers": (OBJECT, lambda ids: {"org_ids": []}),
    "POST /api/v1/settlements/<int:settlement_id>/adjustments": (
        OBJECT,
        lambda ids: {"payee_user_id": ids["user_id"], "amount": "1.00", "reason": "x"},
    ),
    # B's objects in the body
    "POST /api/v1/applications": (
        BODY,
        lambda ids: {
            "lead_id": ids["lead_id"],
            "product_id": ids["product_id"],
            "amount": "50000.00",
            "term_months": 12,
            "service_fee": "0.00",
        },
    ),
    "POST /api/v1/leads/assign": (
        BODY,
        lambda ids: {"lead_ids": [ids["lead_id"], ids["public_lead_id"]], "to_user_id": None},
    ),
    "POST /api/v1/leads/move-to-pool": (
        BODY,
        lambda ids: {"lead_ids": [ids["lead_id"]], "pool_id": ids["pool_id"]},
    ),
    "POST /api/v1/notifications/read": (BODY, lambda ids: {"ids": [ids["notification_id"]]}),
    "POST /api/v1/pools": (BODY, lambda ids: {"name": "池", "team_id": ids["team_id"]}),
    "POST /api/v1/teams": (BODY, lambda ids: {"org_id": ids["org_id"], "name": "队"}),
    "POST /api/v1/users": (
        BODY,
        lambda ids: {
            "username": "intruder",
            "password": "long-enough-pw",
            "display_name": "x",
            "role": "partner_agent",
            "org_id": ids["org_id"],
        },
    ),
    "POST /api/v1/scoring/rescore": (BODY, lambda ids: {"org_id": ids["org_id"]}),
    "POST /api/v1/products": (BODY, lambda ids: {**PRODUCT, "lender_id": ids["lender_id"]}),
    "POST /api/v1/settlements": (BODY, lambda ids: {"period": "2026-10", "org_id": ids["org_id"]}),
    "POST /api/v1/commission-plans": (BODY, lambda ids: {"org_id": ids["org_id"]}),
    # pages: a shell whose data comes from the API above
    **_each(
        "GET ",
        OWN,
        None,
        (
            "/",
            "/admin/",
            "/admin/audit",
            "/admin/audit-chain",
            "/admin/caller-ids",
            "/admin/dnc",
            "/admin/orgs",
            "/admin/roles",
            "/admin/settings",
            "/admin/sources",
            "/admin/teams",
            "/admin/users",
            "/applications",
            "/bigscreen",
            "/commissions",
            "/commissions/plans",
            "/commissions/settlements",
            "/console",
            "/dashboard",
            "/leads",
            "/loans/overdue",
            "/loans/products",
            "/wallboard",
        ),
    ),
    **_each(
        "GET ",
        OBJECT,
        None,
        (
            "/applications/<int:application_id>",
            "/commissions/statements/<int:statement_id>",
            "/leads/<int:lead_id>",
            "/loans/<int:loan_id>",
        ),
    ),
}

# Socket.IO: namespace -> event -> class (connect is where a role is refused)
EVENTS = {
    "/dialer": {
        "connect": OWN,
        "disconnect": OWN,
        "resume": OWN,
        "agent_state": OWN,
        "dial": OBJECT,
        "hangup": OBJECT,
        "disposition": OBJECT,
        "next_lead": LIST,
        "auto_mode": LIST,
    },
    "/wallboard": {"connect": LIST},
}
