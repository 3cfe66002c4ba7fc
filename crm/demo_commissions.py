"""Demo commission plan: headquarters' default, in force from a year back, so every loan the demo
pays out (or a test backdates to last month) earns its agent, team lead and partner a share."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.permissions import permissions_for
from crm.commissions import plans
from crm.commissions.models import CommissionPlan
from crm.commissions.schemas import NewPlan
from crm.db import utcnow
from crm.orgs.models import Org, User

# as finance would post it to /api/v1/commission-plans (rates as fractions, money as text):
# each fee split 10% agent / 5% team lead / 30% partner org (on a partner's loans), the rest
# HQ's; the agent's share rises with the month's disbursed volume, on the whole month
PLAN = {
    "name": "总部标准佣金方案",
    "service_fee_split": {"agent": "0.10", "team_lead": "0.05", "org": "0.30"},
    "channel_fee_split": {"agent": "0.10", "team_lead": "0.05", "org": "0.30"},
    "tiers": [
        {"min_volume": "0", "agent_rate": "0.10"},
        {"min_volume": "200000", "agent_rate": "0.12"},
        {"min_volume": "500000", "agent_rate": "0.15"},
    ],
    "tier_mode": "whole",
    "accrue_on": "disbursement",
    "clawback_days": 90,
    "clawback_overdue_days": 30,
}


def seed_commission_plan(session: Session, hq: Org, users: list[User]) -> None:
    """Through the plans service as HQ's finance, so the plan is checked like any other; nothing
    is added when HQ has a plan already."""
    if session.scalar(select(CommissionPlan.id).where(CommissionPlan.org_id == hq.id).limit(1)):
        return
    finance = next(u for u in users if u.role == "finance" and u.org_id == hq.id)
    actor = Actor(finance.id, hq.id, finance.role, None, permissions_for(finance.role, hq.kind))
    body = NewPlan.model_validate_json(
        json.dumps({**PLAN, "effective_from": _a_year_back().isoformat()})
    )
    plans.create_plan(session, actor, body)


def _a_year_back() -> date:
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    return date(today.year - 1, today.month, 1)
