"""The money path through the API: a product under the APR cap, an application reviewed with
its documents, a contract, disbursement and repayments, each step on the lead's timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.compliance.models import AuditEntry
from crm.extensions import db, runtime
from crm.leads.models import Lead
from crm.loans import documents
from crm.loans.models import ApplicationDocument
from tests.loan_helpers import (
    PDF,
    PNG,
    apply,
    make_lender,
    make_product,
    post,
    product_body,
    upload,
)


@pytest.fixture
def hq(make):
    return make.org("hq")


@pytest.fixture
def admin(auth, hq):
    return auth.login("admin", org=hq)


@pytest.fixture
def agent(make, hq):
    return make.user("agent", org=hq)


@pytest.fixture
def reviewer(make, hq):
    return make.user("reviewer", org=hq)


@pytest.fixture
def product(client, admin):
    return make_product(client, admin, make_lender(client, admin))


def stored(model, **where):
    with db.unit_of_work(SYSTEM) as session:
        return session.scalars(select(model).filter_by(**where)).all()


def test_a_product_whose_all_in_apr_exceeds_the_cap_is_refused(client, admin):
    lender = make_lender(client, admin)
    # a 24% rate is under the line, but a 10% upfront fee on a 6-month loan takes it over 36%
    response = client.post(
        "/api/v1/products",
        json={
            "lender_id": lender,
            "name": "高息贷",
            "min_amount": "5000.00",
            "max_amount": "50000.00",
            "min_term_months": 6,
            "max_term_months": 12,
            "apr_min": "0.2000",
            "apr_max": "0.2400",
            "repayment_method": "equal_installment",
            "fees": [{"name": "账户管理费", "basis": "upfront_rate", "value": "0.10"}],
            "channel_fee_rate": "0.03",
            "rules": {},
        },
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "apr_over_cap"
    assert Decimal(response.json["error"]["details"]["apr"]) > Decimal("0.36")


def test_a_40_percent_product_is_refused_and_a_30_percent_one_is_flagged(client, admin):
    lender = make_lender(client, admin)
    refused = client.post(
        "/api/v1/products",
        json={**product_body(lender, name="四成贷"), "apr_min": "0.30", "apr_max": "0.40"},
        headers=admin,
    )
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "apr_over_cap"
    flagged = make_product(client, admin, lender, name="三成贷", apr_min="0.28", apr_max="0.30")
    assert flagged["apr_flagged"] is True
    assert Decimal(flagged["apr_worst"]) == Decimal("0.3000")
    listed = client.get("/api/v1/products", headers=admin).json["items"]
    assert [(p["name"], p["apr_flagged"]) for p in listed] == [("三成贷", True)]


def test_one_lead_walks_from_application_to_a_repaid_installment(
    client, auth, make, hq, admin, agent, reviewer, product
):
    lead = make.lead(org=hq, owner=agent, stage="qualified", reached_rank=2)
    agent_h = auth.headers_for(agent.username)
    reviewer_h = auth.headers_for(reviewer.username)

    draft = apply(client, agent_h, lead.id, product["id"])
    assert draft["status"] == "draft"
    assert draft["apr"] > draft["annual_rate"]  # the service fee is in the APR
    assert len(draft["schedule"]) == 12

    assert upload(client, agent_h, draft["id"], PNG, "身份证.png").status_code == 201
    submitted = post(client, agent_h, f"/applications/{draft['id']}/submit").json
    assert submitted["status"] == "submitted"
    assert submitted["reviewer_id"] == reviewer.id  # the org's only reviewer got it
    queue = client.get("/api/v1/applications?queue=mine", headers=reviewer_h).json
    assert [a["id"] for a in queue["items"]] == [draft["id"]]
    assert queue["items"][0]["seconds_in_review"] >= 0

    asked = post(
        client,
        reviewer_h,
        f"/applications/{draft['id']}/decision",
        {"decision": "request_documents", "note": "请补充近6个月银行流水"},
    )
    assert asked.json["status"] == "needs_documents"
    assert (
        upload(client, agent_h, draft["id"], PDF, "流水.pdf", "bank_statement").status_code == 201
    )
    assert (
        post(client, agent_h, f"/applications/{draft['id']}/submit").json["status"] == "submitted"
    )
    assert post(client, reviewer_h, f"/applications/{draft['id']}/review").status_code == 200
    approved = post(
        client,
        reviewer_h,
        f"/applications/{draft['id']}/decision",
        {"approved": True, "note": "ok"},
    )
    assert approved.json["status"] == "approved"

    contract = post(client, agent_h, f"/applications/{draft['id']}/contract")
    assert contract.status_code == 201, contract.json
    assert contract.json["version"] == 1
    pdf = client.get(f"/api/v1/applications/{draft['id']}/contracts/1.pdf", headers=agent_h)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    signed = post(client, agent_h, f"/applications/{draft['id']}/contract/sign", {})
    assert signed.json["signed_at"] and signed.json["signed_ip"] == "127.0.0.1"

    disbursed_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    loan = post(
        client,
        admin,
        f"/applications/{draft['id']}/disburse",
        {"amount": "50000.00", "disbursed_at": disbursed_at},
    )
    assert loan.status_code == 201, loan.json
    schedule = loan.json["schedule"]
    assert sum(Decimal(r["principal"]) for r in schedule) == Decimal("50000.00")

    first_total = Decimal(schedule[0]["total"])
    paid = post(
        client,
        admin,
        f"/loans/{loan.json['id']}/repayments",
        {"amount": str(first_total + Decimal("100.00")), "paid_at": disbursed_at},
    )
    assert paid.status_code == 201
    assert [a["n"] for a in paid.json["allocation"]] == [1, 2]
    after = client.get(f"/api/v1/loans/{loan.json['id']}", headers=agent_h).json
    assert [r["status"] for r in after["schedule"][:3]] == ["paid", "partial", "pending"]
    assert Decimal(after["schedule"][1]["paid"]) == Decimal("100.00")

    too_much = post(
        client,
        admin,
        f"/loans/{loan.json['id']}/repayments",
        {"amount": "999999.00", "paid_at": disbursed_at},
    )
    assert too_much.status_code == 422
    assert too_much.json["error"]["code"] == "overpayment"

    (stage,) = stored(Lead, id=lead.id)
    assert stage.stage == "disbursed"
    timeline = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=agent_h).json["items"]
    steps = [e["data"]["to"] for e in timeline if e["kind"] == "application"]
    assert steps[::-1] == [
        "draft",
        "submitted",
        "needs_documents",
        "submitted",
        "under_review",
        "approved",
        "contract_signed",
        "disbursed",
    ]
    moves = [e["data"]["to"] for e in timeline if e["kind"] == "stage"]
    assert moves[::-1] == ["applied", "approved", "disbursed"]


def test_a_file_of_the_wrong_type_or_too_big_is_refused_and_nothing_is_stored(
    client, auth, make, hq, agent, product
):
    lead = make.lead(org=hq, owner=agent)
    headers = auth.headers_for(agent.username)
    application = apply(client, headers, lead.id, product["id"])
    folder = runtime.documents.root
    before = sorted(folder.rglob("*")) if folder.exists() else []

    html = upload(client, headers, application["id"], b"<html><script>", "x.pdf")
    assert html.status_code == 422
    assert html.json["error"]["code"] == "unsupported_file_type"
    huge = upload(client, headers, application["id"], PNG + bytes(11 * 1024 * 1024), "big.png")
    assert huge.json["error"]["code"] == "file_too_large"

    assert stored(ApplicationDocument, application_id=application["id"]) == []
    assert (sorted(folder.rglob("*")) if folder.exists() else []) == before


def test_a_document_download_is_audited_and_a_renamed_png_is_served_as_png(
    client, auth, make, hq, agent, reviewer, product
):
    lead = make.lead(org=hq, owner=agent)
    headers = auth.headers_for(agent.username)
    application = apply(client, headers, lead.id, product["id"])
    doc = upload(client, headers, application["id"], PNG, "收入证明.pdf", "income_proof").json
    assert (doc["mime"], doc["filename"]) == ("image/png", "收入证明.png")

    got = client.get(
        f"/api/v1/applications/{application['id']}/documents/{doc['id']}",
        headers=auth.headers_for(reviewer.username),
    )
    assert got.status_code == 200 and got.data == PNG
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    with db.unit_of_work(SYSTEM) as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "document_download", AuditEntry.lead_id == lead.id)
        )
    assert audited == 1


def test_the_agent_cannot_decide_and_the_seller_cannot_review_their_own_sale(
    client, auth, make, hq, agent, product
):
    lead = make.lead(org=hq, owner=agent)
    headers = auth.headers_for(agent.username)
    application = apply(client, headers, lead.id, product["id"])
    post(client, headers, f"/applications/{application['id']}/submit")
    refused = post(
        client, headers, f"/applications/{application['id']}/decision", {"approved": True}
    )
    assert refused.status_code == 403

    manager = make.user("manager", org=hq)
    manager_h = auth.headers_for(manager.username)
    own_lead = make.lead(org=hq, owner=manager)
    own = apply(client, manager_h, own_lead.id, product["id"])
    post(client, manager_h, f"/applications/{own['id']}/submit")
    four_eyes = post(client, manager_h, f"/applications/{own['id']}/decision", {"approved": True})
    assert four_eyes.status_code == 403


def test_a_partner_reviewer_sees_neither_hq_applications_nor_their_documents(
    client, auth, make, hq, agent, product
):
    lead = make.lead(org=hq, owner=agent)
    headers = auth.headers_for(agent.username)
    application = apply(client, headers, lead.id, product["id"])
    doc = upload(client, headers, application["id"], PNG, "id.png").json
    partner = make.org("partner")
    partner_reviewer = auth.login("reviewer", org=partner)

    base = f"/api/v1/applications/{application['id']}"
    assert client.get(base, headers=partner_reviewer).status_code == 404
    assert client.get(f"{base}/documents/{doc['id']}", headers=partner_reviewer).status_code == 404
    assert client.get("/api/v1/applications", headers=partner_reviewer).json["total"] == 0
    review = client.post(f"{base}/review", headers=partner_reviewer)
    assert review.status_code == 404


def test_terms_outside_the_product_and_an_apr_over_the_cap_are_refused(
    client, auth, make, hq, agent, product
):
    lead = make.lead(org=hq, owner=agent)
    headers = auth.headers_for(agent.username)
    body = {"lead_id": lead.id, "product_id": product["id"], "term_months": 12}
    too_big = client.post(
        "/api/v1/applications",
        json={**body, "amount": "900000.00", "service_fee": "0"},
        headers=headers,
    )
    assert too_big.json["error"]["code"] == "amount_out_of_range"
    # a 6,000 service fee on a 10,000 loan over 6 months is far above 36%
    greedy = client.post(
        "/api/v1/applications",
        json={**body, "amount": "10000.00", "service_fee": "6000.00", "term_months": 6},
        headers=headers,
    )
    assert greedy.status_code == 422
    assert greedy.json["error"]["code"] == "apr_over_cap"


def test_a_document_written_in_a_unit_of_work_that_rolls_back_leaves_no_file(
    client, auth, make, hq, agent, product
):
    lead = make.lead(org=hq, owner=agent)
    application = apply(client, auth.headers_for(agent.username), lead.id, product["id"])
    folder = runtime.documents.root
    before = sorted(folder.rglob("*.png")) if folder.exists() else []
    with pytest.raises(RuntimeError), db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, agent.id)
        documents.upload(
            session, actor, runtime.documents, application["id"], "id_card", "a.png", PNG
        )
        assert len(sorted(folder.rglob("*.png"))) == len(before) + 1
        raise RuntimeError("the request failed after the file was written")
    assert sorted(folder.rglob("*.png")) == before
