"""Demo data for the embedded mode: headquarters, two city partners, teams, a user of every role."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.passwords import Passwords
from crm.orgs.models import Org, Team, User
from crm.orgs.schemas import OrgSettings

DEMO_PASSWORD = "demo-pass-2026"

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


def seed(session: Session, passwords: Passwords) -> list[User]:
    """Creates what is missing and returns the demo users; running it twice changes nothing."""
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
    return users


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
