"""Demo data for the embedded mode: headquarters and two city partners with teams, a user of
every role, a few hundred leads whose phone numbers belong to each org's cities, HQ's lenders
with their loan products (one offered to the Shenzhen partner) and HQ's commission plan."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm.auth.passwords import Passwords
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.demo_commissions import seed_commission_plan
from crm.demo_loans import seed_products
from crm.errors import DomainError
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead
from crm.leads.phone import normalize_phone
from crm.leads.service import ensure_sources
from crm.orgs.models import Org, Team, User
from crm.orgs.schemas import OrgSettings

DEMO_PASSWORD = "demo-pass-2026"
LEADS_PER_ORG = (160, 80, 60)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰小龙文斌宇浩然梓涵欣怡"
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "199",
)
SOURCES = ("百度推广", "抖音信息流", "微信朋友圈", "老客户转介绍", "采购名单")
AMOUNTS = ("30000", "50000", "100000", "200000", "300000", "500000")
PURPOSES = ("装修", "经营周转", "购车", "教育", "消费", "医疗")

ORGS = [
    ("融信总部", "hq", ["北京", "上海", "广州"]),
    ("深圳城市合伙人", "partner", ["深圳"]),
    ("成都城市合伙人", "partner", ["成都"]),
]
# (username, display name, role, org index, team name or None)
USERS = [
    ("admin", "系统管理员", "admin", 0, None),
    ("manager", "王经理", "manager", 0, None),
    ("lead_bj", "李组长", "team_lead", 0, "北京一组"),
    ("agent_bj1", "张小明", "agent", 0, "北京一组"),
    ("agent_bj2", "赵丽", "agent", 0, "北京一组"),
    ("reviewer", "陈审核", "reviewer", 0, None),
    ("finance", "刘财务", "finance", 0, None),
    ("sz_admin", "深圳-周总", "partner_admin", 1, None),
    ("sz_agent1", "深圳-吴电销", "partner_agent", 1, "深圳电销组"),
    ("sz_agent2", "深圳-郑电销", "partner_agent", 1, "深圳电销组"),
    ("cd_admin", "成都-孙总", "partner_admin", 2, None),
    ("cd_agent1", "成都-钱电销", "partner_agent", 2, "成都电销组"),
]


def seed(session: Session, passwords: Passwords, vault: PiiVault, leads: bool = True) -> list[User]:
    """Creates what is missing and returns the demo users; running it twice changes nothing.
    Without `leads` the orgs get none: the demo world (crm/demo_world) brings its own."""
    orgs = [_org(session, name, kind, cities) for name, kind, cities in ORGS]
    password_hash = passwords.hash(DEMO_PASSWORD)
    users = []
    for username, display_name, role, org_index, team_name in USERS:
        org = orgs[org_index]
        team = _team(session, org, team_name) if team_name else None
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            user = User(
                username=username,
                display_name=display_name,
                role=role,
                org_id=org.id,
                team_id=team.id if team else None,
                password_hash=password_hash,
            )
            session.add(user)
            session.flush()
        if team is not None and role == "team_lead":
            team.lead_user_id = user.id
        users.append(user)
    for org, quota in zip(orgs, LEADS_PER_ORG, strict=True):
        if leads:
            _seed_leads(session, vault, org, quota, [u for u in users if u.org_id == org.id])
    seed_products(session, orgs, users)
    seed_commission_plan(session, orgs[0], users)
    return users


def _seed_leads(session: Session, vault: PiiVault, org: Org, quota: int, users: list[User]) -> None:
    if session.scalar(select(Lead.id).where(Lead.org_id == org.id).limit(1)) is not None:
        return
    rng = random.Random(f"loanline-demo-{org.name}")
    agents = [u for u in users if u.role in ("agent", "partner_agent")]
    now = utcnow()
    rows = []
    for phone in _phones_in(org.cities, quota, rng, hq=org.kind == "hq"):
        created = now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 1440))
        draft = LeadDraft(
            phone=phone,
            name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
            source=rng.choice(SOURCES),
            amount_wanted=Decimal(rng.choice(AMOUNTS)),
            term_months=rng.choice((12, 24, 36)),
            purpose=rng.choice(PURPOSES),
            qualifications=_qualifications(rng),
            consent_given_at=created,
            consent_method="web_form",
            consent_text_version="2026-01",
        )
        row = lead_columns(vault, draft, org.id, None, created)
        if agents and rng.random() < 0.3:
            # claimed lately, so the first recycle sweep does not empty the demo private pools
            claimed = max(created, now - timedelta(hours=rng.randint(1, 48)))
            row["owner_id"], row["claimed_at"] = rng.choice(agents).id, claimed
        rows.append(row)
    session.execute(insert(Lead), rows)
    ensure_sources(session, org.id, {row["source"] for row in rows})


def _phones_in(cities: list[str], quota: int, rng: random.Random, hq: bool) -> list[str]:
    """Random mobiles whose 号码归属地 is one of `cities` (HQ also takes the rest of China)."""
    found: dict[str, None] = {}
    for _ in range(quota * 400):
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        try:
            city = normalize_phone(phone).city
        except DomainError:
            continue
        if city in cities or (hq and rng.random() < 0.02):
            found[phone] = None
        if len(found) == quota:
            break
    return list(found)


def _qualifications(rng: random.Random) -> dict:
    return {
        "monthly_income": str(rng.choice((4000, 6500, 8000, 12000, 20000, 35000))),
        "employment": rng.choice(("salaried", "salaried", "self_employed", "business_owner")),
        "social_security": rng.random() < 0.7,
        "provident_fund": rng.random() < 0.5,
        "house": rng.choice(("none", "owned", "mortgaged")),
        "car": rng.choice(("none", "none", "owned", "mortgaged")),
        "insurance_policy": rng.random() < 0.3,
        "credit_status": rng.choice(("good", "good", "good", "minor_overdue", "no_record")),
    }


def _org(session: Session, name: str, kind: str, cities: list[str]) -> Org:
    org = session.scalars(select(Org).where(Org.name == name)).one_or_none()
    if org is None:
        org = Org(name=name, kind=kind, cities=cities, settings=OrgSettings().model_dump())
        session.add(org)
        session.flush()
    return org


def _team(session: Session, org: Org, name: str) -> Team:
    team = session.scalars(
        select(Team).where(Team.org_id == org.id, Team.name == name)
    ).one_or_none()
    if team is None:
        team = Team(org_id=org.id, name=name)
        session.add(team)
        session.flush()
    return team
