"""Two partner orgs, A and B, each with one of every kind of object a URL or a socket event can
name (lead, application and its document, loan, call, statement, job, ...), for the
tenant-isolation matrix: A's people act on B's objects. B's objects carry sentinel text that must
never appear in anything A is answered."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.commissions.models import Settlement, Statement
from crm.extensions import db
from crm.leads.models import Lead, LeadSource
from crm.loans.models import Application, Loan
from crm.notifications.models import Notification
from crm.orgs.models import Team, User
from crm.pools.models import Pool
from dialer.models import Call, CallerId
from tests.factories import Factory
from tests.loan_helpers import PNG, apply, upload
from tests.loan_rows import Due, make_lender, make_loan

# text only B's objects carry: none of it may reach a user of A
SENTINELS = ("乙方", "bsentinel", "0755000999")


@dataclass
class Tenant:
    org: Any
    admin: Any
    agent: Any
    headers: dict[str, dict[str, str]]  # role -> Authorization header
    permissions: dict[str, set[str]]  # role -> what it may do


@dataclass
class World:
    a: Tenant
    b: Tenant
    ids: dict[str, Any]  # URL parameter name -> B's object

    def state_of_b(self) -> list[tuple]:
        """What acting on B could change: its leads' owners and stages, its notices, its
        applications, loans and settlements, its teams and users."""
        b = self.b.org.id
        with db.unit_of_work(SYSTEM, readonly=True) as session:
            return [
                tuple(session.execute(stmt.where(model.org_id == b).order_by(model.id)))
                for model, stmt in (
                    (Lead, select(Lead.id, Lead.owner_id, Lead.stage, Lead.pool_id)),
                    (Notification, select(Notification.id, Notification.read_at)),
                    (Application, select(Application.id, Application.status)),
                    (Loan, select(Loan.id, Loan.status)),
                    (Settlement, select(Settlement.id, Settlement.status)),
                    (Team, select(Team.id, Team.name)),
                    (User, select(User.id, User.role, User.active)),
                )
            ]


def _tenant(client, make: Factory, name: str) -> Tenant:
    org = make.org("partner", name=name, cities=["深圳"])
    team = make.team(org=org, name=f"{name}团队")
    admin = make.user("partner_admin", org=org, display_name=f"{name}管理员")
    agent = make.user("partner_agent", org=org, team_id=team.id, display_name=f"{name}坐席")
    reviewer = make.user("reviewer", org=org, display_name=f"{name}审核")
    headers = {user.role: _login(client, user.username) for user in (admin, agent, reviewer)}
    permissions = {
        role: set(client.get("/api/v1/me", headers=h).json["permissions"])
        for role, h in headers.items()
    }
    return Tenant(org, admin, agent, headers, permissions)


def _login(client, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": Factory.PASSWORD}
    )
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def build_world(client, make: Factory) -> World:
    a, b = _tenant(client, make, "甲方"), _tenant(client, make, "乙方")
    make.lead(org=a.org, owner=a.agent, source="甲方渠道")
    make.lead(org=a.org, source="甲方渠道")  # A's public pool is not empty either
    lead = make.lead(org=b.org, owner=b.agent, name="乙方客户", city="深圳", source="乙方渠道")
    public = make.lead(org=b.org, name="乙方公海", city="深圳", source="乙方渠道")
    lender, product = make_lender(b.org, name="乙方银行")
    application = apply(client, b.headers["partner_agent"], lead.id, product.id, amount="50000.00")
    document = upload(client, b.headers["partner_agent"], application["id"], PNG, "乙方.png")
    assert document.status_code == 201, document.json
    loan, _ = make_loan(lead, product, [Due(date(2027, 1, 1), Decimal("1000.00"))], agent=b.agent)
    ids = {
        "lead_id": lead.id,
        "public_lead_id": public.id,
        "application_id": application["id"],
        "document_id": document.json["id"],
        "version": 1,
        "loan_id": loan.id,
        "product_id": product.id,
        "lender_id": lender.id,
        "user_id": b.agent.id,
        "org_id": b.org.id,
        "team_id": b.agent.team_id,
        "job_id": _import_job(client, b.headers["partner_admin"]),
        "export_job_id": _deidentified_job(client, b.headers["partner_admin"]),
        **_rows_of_b(b, lead),
    }
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        ids["source_id"] = session.scalars(
            select(LeadSource.id).where(LeadSource.org_id == b.org.id)
        ).first()
    reveal = client.post(
        f"/api/v1/leads/{lead.id}/reveal",
        headers=b.headers["partner_admin"],
        json={"fields": ["phone"], "purpose": "乙方核实 bsentinel"},
    )
    assert reveal.status_code == 200
    return World(a, b, ids)


def _rows_of_b(b: Tenant, lead: Lead) -> dict[str, int]:
    with db.unit_of_work(SYSTEM) as session:
        caller_id = CallerId(org_id=b.org.id, number="07550009999")
        pool = Pool(org_id=b.org.id, name="乙方池 bsentinel")
        notice = Notification(org_id=b.org.id, user_id=b.agent.id, code="x", message="乙方通知")
        settlement = Settlement(org_id=b.org.id, period="2026-10", status="draft")
        session.add_all([caller_id, pool, notice, settlement])
        session.flush()
        call = Call(
            org_id=b.org.id,
            lead_id=lead.id,
            agent_id=b.agent.id,
            caller_id_id=caller_id.id,
            state="ended",
            gateway="simulated",
            started_at=datetime(2026, 11, 2, 3, tzinfo=UTC),
            ended_at=datetime(2026, 11, 2, 3, 1, tzinfo=UTC),
        )
        statement = Statement(
            org_id=b.org.id,
            settlement_id=settlement.id,
            period="2026-10",
            payee_key=f"user:{b.agent.id}",
            payee_user_id=b.agent.id,
            payee_role="agent",
            total=Decimal("0.00"),
        )
        session.add_all([call, statement])
        session.flush()
        return {
            "call_id": call.id,
            "pool_id": pool.id,
            "notification_id": notice.id,
            "settlement_id": settlement.id,
            "statement_id": statement.id,
        }


def _import_job(client, headers) -> str:
    sheet = "姓名,手机号码\n乙方导入,13900009999\n".encode()
    response = client.post(
        "/api/v1/leads/import",
        headers=headers,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(sheet), "bsentinel.csv"), "source": "乙方渠道"},
    )
    assert response.status_code == 202, response.json
    return response.json["job_id"]


def _deidentified_job(client, headers) -> str:
    response = client.post("/api/v1/exports/deidentified", headers=headers, json={})
    assert response.status_code == 202, response.json
    return response.json["job_id"]
