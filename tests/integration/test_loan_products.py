"""Products across orgs, matching through the API, contract versions and templates, and the
lead's funnel when one lender rejects and another is tried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.leads.models import Lead
from crm.loans.models import Contract
from tests.loan_helpers import apply, make_lender, make_product, post, product_body
from tests.sample_data import resident_id


@pytest.fixture
def hq(make):
    return make.org("hq")


@pytest.fixture
def partner(make):
    return make.org("partner", cities=["深圳"])


@pytest.fixture
def admin(auth, hq):
    return auth.login("admin", org=hq)


def test_an_offered_hq_product_is_usable_by_that_partner_only(client, auth, make, admin, partner):
    lender = make_lender(client, admin)
    product = make_product(client, admin, lender)
    other = make.org("partner", cities=["广州"])
    offered = client.put(
        f"/api/v1/products/{product['id']}/offers", json={"org_ids": [partner.id]}, headers=admin
    )
    assert offered.status_code == 200 and offered.json["offered_to"] == [partner.id]

    sz = auth.login("partner_admin", org=partner)
    gz = auth.login("partner_admin", org=other)
    assert [p["id"] for p in client.get("/api/v1/products", headers=sz).json["items"]] == [
        product["id"]
    ]
    # a partner never learns which other partners an HQ product went to
    assert client.get("/api/v1/products", headers=sz).json["items"][0]["offered_to"] == []
    assert client.get("/api/v1/products", headers=gz).json["total"] == 0
    # nor may it change headquarters' product
    terms = {k: v for k, v in product_body(lender).items() if k != "lender_id"}
    edit = client.put(f"/api/v1/products/{product['id']}", json=terms, headers=sz)
    assert edit.status_code == 404

    agent = make.user("partner_agent", org=partner)
    lead = make.lead(org=partner, owner=agent)
    app = apply(client, auth.headers_for(agent.username), lead.id, product["id"])
    assert app["org_id"] == partner.id
    stranger = make.user("partner_agent", org=other)
    their_lead = make.lead(org=other, owner=stranger)
    refused = client.post(
        "/api/v1/applications",
        json={
            "lead_id": their_lead.id,
            "product_id": product["id"],
            "amount": "50000.00",
            "term_months": 12,
            "service_fee": "0",
        },
        headers=auth.headers_for(stranger.username),
    )
    assert refused.status_code == 404


def test_matching_ranks_the_eligible_and_names_each_exclusion(client, auth, make, hq, admin):
    lender = make_lender(client, admin)
    cheap = make_product(client, admin, lender, name="低息贷", apr_max="0.0900")
    dear = make_product(client, admin, lender, name="普惠贷", apr_max="0.1800")
    young = make_product(client, admin, lender, name="青年贷", rules={"age_min": 18, "age_max": 30})
    local = make_product(
        client, admin, lender, name="上海贷", rules={"cities": ["上海"], "requires_house": True}
    )
    agent = make.user("agent", org=hq)
    birth = (datetime.now(UTC).date() - timedelta(days=40 * 365 + 30)).strftime("%Y%m%d")
    lead = make.lead(
        org=hq,
        owner=agent,
        city="北京",
        id_number=resident_id("110105", birth, "123"),
        qualifications={"house": "none", "monthly_income": "12000"},
    )
    found = client.get(
        f"/api/v1/leads/{lead.id}/matches", headers=auth.headers_for(agent.username)
    ).json
    assert [m["product"]["id"] for m in found["eligible"]] == [cheap["id"], dear["id"]]
    excluded = {m["product"]["id"]: m["exclusions"] for m in found["excluded"]}
    assert [r["rule"] for r in excluded[young["id"]]] == ["age"]
    assert "40" in excluded[young["id"]][0]["message"]
    assert sorted(r["rule"] for r in excluded[local["id"]]) == ["city", "house"]
    assert all(r["message_en"] for r in excluded[local["id"]])


def test_a_rejected_lead_applies_again_with_another_product(client, auth, make, hq, admin):
    lender = make_lender(client, admin)
    first = make_product(client, admin, lender, name="甲产品")
    second = make_product(client, admin, lender, name="乙产品")
    agent = make.user("agent", org=hq)
    reviewer = auth.login("reviewer", org=hq)
    agent_h = auth.headers_for(agent.username)
    lead = make.lead(org=hq, owner=agent, stage="contacted", reached_rank=1)

    one = apply(client, agent_h, lead.id, first["id"])
    post(client, agent_h, f"/applications/{one['id']}/submit")
    post(
        client,
        reviewer,
        f"/applications/{one['id']}/decision",
        {"decision": "reject", "note": "征信查询过多"},
    )
    assert _stage(lead.id) == "rejected"

    two = apply(client, agent_h, lead.id, second["id"])
    post(client, agent_h, f"/applications/{two['id']}/submit")
    assert _stage(lead.id) == "applied"
    assert post(client, reviewer, f"/applications/{one['id']}/review").status_code == 422


def test_a_contract_is_versioned_never_overwritten_and_uses_the_org_template(
    client, auth, make, hq, admin
):
    product = make_product(client, admin, make_lender(client, admin))
    agent = make.user("agent", org=hq)
    agent_h = auth.headers_for(agent.username)
    reviewer = auth.login("reviewer", org=hq)
    lead = make.lead(org=hq, owner=agent)
    app = apply(client, agent_h, lead.id, product["id"])
    post(client, agent_h, f"/applications/{app['id']}/submit")
    post(client, reviewer, f"/applications/{app['id']}/decision", {"approved": True})

    first = post(client, agent_h, f"/applications/{app['id']}/contract").json
    broken = client.post(
        "/api/v1/contract-templates",
        json={"body": "{{ ''.__class__.__mro__ }} {% for", "consent_text": "同意以上全部条款内容"},
        headers=admin,
    )
    assert broken.status_code == 422
    assert broken.json["error"]["code"] == "invalid_contract_template"
    template = client.post(
        "/api/v1/contract-templates",
        json={
            "body": "<h1>{{ org_name }} 合同</h1><p>APR {{ apr }}</p><p>{{ consent_text }}</p>",
            "consent_text": "本机构特别约定：借款人知悉全部费用",
        },
        headers=admin,
    )
    assert template.status_code == 201, template.json
    second = post(client, agent_h, f"/applications/{app['id']}/contract").json
    assert (first["version"], second["version"]) == (1, 2)
    assert first["html_sha256"] != second["html_sha256"]
    html = client.get(f"/api/v1/applications/{app['id']}/contracts/2.html", headers=agent_h)
    assert "本机构特别约定" in html.get_data(as_text=True)
    with db.unit_of_work(SYSTEM) as session:
        rows = session.scalars(
            select(Contract).where(Contract.application_id == app["id"]).order_by(Contract.version)
        ).all()
        assert [c.html_sha256 for c in rows] == [first["html_sha256"], second["html_sha256"]]
        # each PDF was rendered once by its job, and kept with its own hash
        assert all(c.pdf_sha256 for c in rows) and rows[0].pdf_sha256 != rows[1].pdf_sha256
        # the contract names the borrower: its stored HTML is ciphertext
        assert "本机构特别约定" not in rows[1].html and "张三" not in rows[0].html

    signed = post(client, agent_h, f"/applications/{app['id']}/contract/sign", {"method": "video"})
    assert signed.json["version"] == 2 and signed.json["sign_method"] == "video"
    again = post(client, agent_h, f"/applications/{app['id']}/contract")
    assert again.json["error"]["code"] == "application_locked"


def test_disbursing_more_than_approved_or_in_the_future_is_refused(client, auth, make, hq, admin):
    product = make_product(client, admin, make_lender(client, admin))
    agent = make.user("agent", org=hq)
    agent_h = auth.headers_for(agent.username)
    reviewer = auth.login("reviewer", org=hq)
    lead = make.lead(org=hq, owner=agent)
    app = apply(client, agent_h, lead.id, product["id"])
    post(client, agent_h, f"/applications/{app['id']}/submit")
    post(client, reviewer, f"/applications/{app['id']}/decision", {"approved": True})
    early = post(
        client,
        admin,
        f"/applications/{app['id']}/disburse",
        {"amount": "50000.00", "disbursed_at": datetime.now(UTC).isoformat()},
    )
    assert early.json["error"]["code"] == "invalid_application_transition"  # not signed yet
    post(client, agent_h, f"/applications/{app['id']}/contract")
    post(client, agent_h, f"/applications/{app['id']}/contract/sign", {})
    more = post(
        client,
        admin,
        f"/applications/{app['id']}/disburse",
        {"amount": "60000.00", "disbursed_at": datetime.now(UTC).isoformat()},
    )
    assert more.json["error"]["code"] == "invalid_disbursed_amount"
    future = post(
        client,
        admin,
        f"/applications/{app['id']}/disburse",
        {"amount": "40000.00", "disbursed_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
    )
    assert future.json["error"]["code"] == "disbursed_in_future"
    less = post(
        client,
        admin,
        f"/applications/{app['id']}/disburse",
        {"amount": "40000.00", "disbursed_at": datetime.now(UTC).isoformat()},
    )
    assert less.status_code == 201 and less.json["amount"] == "40000.00"
    assert less.json["channel_fee"] == "800.00"  # 2% of what was paid out


def _stage(lead_id: int) -> str:
    with db.unit_of_work(SYSTEM) as session:
        return session.scalar(select(Lead.stage).where(Lead.id == lead_id))


def test_an_application_for_a_product_the_lead_fails_is_refused_with_the_reasons(
    client, auth, make, hq, admin
):
    lender = make_lender(client, admin)
    house = make_product(client, admin, lender, name="房抵贷", rules={"requires_house": True})
    agent = make.user("agent", org=hq)
    lead = make.lead(org=hq, owner=agent, qualifications={"house": "none"})
    refused = client.post(
        "/api/v1/applications",
        json={
            "lead_id": lead.id,
            "product_id": house["id"],
            "amount": "50000.00",
            "term_months": 12,
            "service_fee": "0",
        },
        headers=auth.headers_for(agent.username),
    )
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "not_eligible"
    assert [r["rule"] for r in refused.json["error"]["details"]["exclusions"]] == ["house"]


def test_a_reviewer_opens_the_leads_under_review_and_finance_the_application_it_pays(
    client, auth, make, hq, admin
):
    product = make_product(client, admin, make_lender(client, admin))
    agent = make.user("agent", org=hq)
    agent_h = auth.headers_for(agent.username)
    reviewer = auth.login("reviewer", org=hq)
    finance = auth.login("finance", org=hq)
    submitted_lead = make.lead(org=hq, owner=agent)
    other_lead = make.lead(org=hq, owner=agent)
    app = apply(client, agent_h, submitted_lead.id, product["id"])
    post(client, agent_h, f"/applications/{app['id']}/submit")

    assert client.get(f"/api/v1/leads/{submitted_lead.id}", headers=reviewer).status_code == 200
    assert client.get(f"/api/v1/leads/{other_lead.id}", headers=reviewer).status_code == 404
    assert client.get(f"/api/v1/applications/{app['id']}", headers=finance).status_code == 200
    assert client.get(f"/api/v1/leads/{other_lead.id}", headers=finance).status_code == 403
