"""Demo lenders and loan products of headquarters, one of them offered to the Shenzhen partner."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.permissions import permissions_for
from crm.loans import products
from crm.loans.models import Lender
from crm.loans.schemas import NewLender, NewProduct
from crm.orgs.models import Org, User

# HQ's lenders and products as an admin would post them to /api/v1/products (money as text, rates
# as fractions, rules as crm/loans/eligibility.py ProductRules). Every repayment method appears;
# 速易贷's all-in APR (27.6%) is above the 24% flag and under the 36% cap.
LENDERS = [
    (
        "招商银行",
        "bank",
        [
            {
                "name": "招行闪电贷",
                "min_amount": "50000.00",
                "max_amount": "300000.00",
                "min_term_months": 12,
                "max_term_months": 36,
                "apr_min": "0.072",
                "apr_max": "0.12",
                "repayment_method": "equal_installment",
                "channel_fee_rate": "0.015",
                "rules": {
                    "age_min": 22,
                    "age_max": 55,
                    "cities": ["北京", "上海", "广州", "深圳"],
                    "min_monthly_income": "8000",
                    "employment_in": ["salaried"],
                    "min_social_security_months": 6,
                    "credit_status_in": ["good", "no_record"],
                    "max_credit_queries_3m": 6,
                },
            },
            {
                "name": "招行房抵经营贷",
                "min_amount": "200000.00",
                "max_amount": "3000000.00",
                "min_term_months": 12,
                "max_term_months": 60,
                "apr_min": "0.045",
                "apr_max": "0.08",
                "repayment_method": "interest_only",
                "channel_fee_rate": "0.01",
                "rules": {
                    "age_min": 25,
                    "age_max": 65,
                    "requires_house": True,
                    "employment_in": ["self_employed", "business_owner"],
                    "requires_business_licence": True,
                    "min_business_licence_months": 12,
                },
            },
        ],
    ),
    (
        "马上消费金融",
        "consumer_finance",
        [
            {
                "name": "马上贷",
                "min_amount": "10000.00",
                "max_amount": "200000.00",
                "min_term_months": 6,
                "max_term_months": 36,
                "apr_min": "0.15",
                "apr_max": "0.20",
                "repayment_method": "equal_installment",
                "channel_fee_rate": "0.03",
                "fees": [{"name": "账户管理费", "basis": "monthly_rate", "value": "0.002"}],
                "rules": {
                    "age_min": 22,
                    "age_max": 55,
                    "min_monthly_income": "4000",
                    "credit_status_in": ["good", "minor_overdue", "no_record"],
                },
            },
            {
                "name": "马上车主贷",
                "min_amount": "30000.00",
                "max_amount": "300000.00",
                "min_term_months": 12,
                "max_term_months": 36,
                "apr_min": "0.10",
                "apr_max": "0.16",
                "repayment_method": "equal_principal",
                "channel_fee_rate": "0.025",
                "rules": {"age_min": 22, "age_max": 60, "requires_car": True},
            },
        ],
    ),
    (
        "中安小额贷款",
        "microloan",
        [
            {
                "name": "速易贷",
                "min_amount": "5000.00",
                "max_amount": "50000.00",
                "min_term_months": 3,
                "max_term_months": 12,
                "apr_min": "0.18",
                "apr_max": "0.24",
                "repayment_method": "bullet",
                "channel_fee_rate": "0.04",
                "fees": [{"name": "服务费", "basis": "upfront_rate", "value": "0.01"}],
                "rules": {"age_min": 20, "age_max": 60, "excluded_sources": ["采购名单"]},
            },
            {
                "name": "保单贷",
                "min_amount": "50000.00",
                "max_amount": "500000.00",
                "min_term_months": 12,
                "max_term_months": 36,
                "apr_min": "0.09",
                "apr_max": "0.15",
                "repayment_method": "equal_installment",
                "channel_fee_rate": "0.02",
                "fees": [{"name": "担保费", "basis": "monthly_fixed", "value": "30.00"}],
                "rules": {"age_min": 25, "age_max": 60, "requires_insurance_policy": True},
            },
        ],
    ),
]
# (product, partner org) headquarters offers to a partner
OFFERS = [("保单贷", "深圳城市合伙人")]


def seed_products(session: Session, orgs: list[Org], users: list[User]) -> None:
    """Through the products service as HQ's admin, so each product's all-in APR is worked out
    and checked against the cap like any other; nothing is added when HQ has lenders already."""
    hq = orgs[0]
    if session.scalar(select(Lender.id).where(Lender.org_id == hq.id).limit(1)) is not None:
        return
    admin = next(u for u in users if u.role == "admin" and u.org_id == hq.id)
    actor = Actor(admin.id, hq.id, admin.role, None, permissions_for(admin.role, hq.kind))
    created = {}
    for lender_name, kind, items in LENDERS:
        lender = products.create_lender(session, actor, NewLender(name=lender_name, kind=kind))
        for item in items:
            body = NewProduct.model_validate_json(json.dumps({"lender_id": lender.id, **item}))
            created[item["name"]] = products.create_product(session, actor, body).id
    partners = {org.name: org.id for org in orgs}
    for product_name, org_name in OFFERS:
        products.offer_product(session, actor, created[product_name], [partners[org_name]])
