"""Building the loans world through the API, as a broker's admin would: lenders, products, and an
application walked along its workflow."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def product_body(lender_id: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "lender_id": lender_id,
        "name": "工薪贷",
        "min_amount": "10000.00",
        "max_amount": "200000.00",
        "min_term_months": 6,
        "max_term_months": 36,
        "apr_min": "0.0800",
        "apr_max": "0.1200",
        "repayment_method": "equal_installment",
        "fees": [],
        "channel_fee_rate": "0.0200",
        "rules": {},
    }
    return {**body, **overrides}


def make_lender(client, headers, name: str = "招商银行", kind: str = "bank") -> int:
    response = client.post("/api/v1/lenders", json={"name": name, "kind": kind}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def make_product(client, headers, lender_id: int, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/products", json=product_body(lender_id, **overrides), headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json


def apply(client, headers, lead_id: int, product_id: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "lead_id": lead_id,
        "product_id": product_id,
        "amount": "50000.00",
        "term_months": 12,
        "service_fee": "1000.00",
        **overrides,
    }
    response = client.post("/api/v1/applications", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def upload(client, headers, application_id: int, content: bytes, filename: str, kind="id_card"):
    return client.post(
        f"/api/v1/applications/{application_id}/documents",
        data={"kind": kind, "file": (io.BytesIO(content), filename)},
        headers=headers,
        content_type="multipart/form-data",
    )


def post(client, headers, path: str, body: dict[str, Any] | None = None):
    return client.post(f"/api/v1{path}", json=body or {}, headers=headers)


def hq_world(make, auth, client, **product_overrides) -> SimpleNamespace:
    """An HQ org with an admin, an agent and a reviewer, a lender and a product."""
    hq = make.org("hq")
    admin = auth.login("admin", org=hq)
    agent = make.user("agent", org=hq)
    reviewer = make.user("reviewer", org=hq)
    lender = make_lender(client, admin)
    product = make_product(client, admin, lender, **product_overrides)
    return SimpleNamespace(
        hq=hq,
        admin=admin,
        agent=agent,
        agent_h=auth.headers_for(agent.username),
        reviewer=reviewer,
        reviewer_h=auth.headers_for(reviewer.username),
        lender_id=lender,
        product=product,
    )


def approved_application(client, make, w, **overrides) -> dict:
    lead = make.lead(org=w.hq, owner=w.agent, stage="qualified", reached_rank=2)
    app = apply(client, w.agent_h, lead.id, w.product["id"], **overrides)
    assert post(client, w.agent_h, f"/applications/{app['id']}/submit").status_code == 200
    decided = post(
        client,
        w.reviewer_h,
        f"/applications/{app['id']}/decision",
        {"approved": True, "note": "ok"},
    )
    assert decided.status_code == 200, decided.json
    return decided.json


def signed_application(client, make, w, **overrides) -> dict:
    app = approved_application(client, make, w, **overrides)
    contract = post(client, w.agent_h, f"/applications/{app['id']}/contract")
    assert contract.status_code == 201, contract.json
    signed = post(client, w.agent_h, f"/applications/{app['id']}/contract/sign", {})
    assert signed.status_code == 200, signed.json
    return app


def disburse(client, w, application_id: int, amount: str, days_ago: int = 1):
    when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    return post(
        client,
        w.admin,
        f"/applications/{application_id}/disburse",
        {"amount": amount, "disbursed_at": when},
    )
