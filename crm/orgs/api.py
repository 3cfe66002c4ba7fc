"""Orgs, teams and users endpoints."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.extensions import runtime
from crm.http import ApiBlueprint
from crm.orgs import service
from crm.orgs.schemas import (
    CreateOrg,
    CreateTeam,
    CreateUser,
    OrgOut,
    OrgSettings,
    TeamOut,
    UpdateUser,
    UserListArgs,
    UserOut,
)
from crm.schemas import Page, PageArgs

bp = ApiBlueprint("orgs", __name__, tag="orgs")


@bp.endpoint("/orgs", "POST", body=CreateOrg, response=OrgOut, status=201, permission="orgs:manage")
def create_org(session: Session, actor: Actor, body: CreateOrg):
    """Create an org (headquarters or a franchise partner)."""
    return service.create_org(session, actor, body)


@bp.endpoint("/orgs", query=PageArgs, response=Page[OrgOut])
def list_orgs(session: Session, actor: Actor, query: PageArgs):
    """Orgs the caller can see: all for headquarters, their own for a partner."""
    return service.list_orgs(session, query)


@bp.endpoint("/orgs/<int:org_id>/settings", response=OrgSettings, permission="settings:manage")
def get_org_settings(session: Session, actor: Actor, org_id: int):
    """An org's rules: calling hours and time zone, caps, recycle and retention periods."""
    return service.get_org_settings(session, org_id)


@bp.endpoint(
    "/orgs/<int:org_id>/settings",
    "PATCH",
    body=OrgSettings,
    response=OrgSettings,
    permission="settings:manage",
)
def update_org_settings(session: Session, actor: Actor, org_id: int, body: OrgSettings):
    """Change some of an org's rules (keys left out keep their value); audited."""
    return service.update_org_settings(session, actor, org_id, body)


@bp.endpoint(
    "/teams", "POST", body=CreateTeam, response=TeamOut, status=201, permission="teams:manage"
)
def create_team(session: Session, actor: Actor, body: CreateTeam):
    """Create a team inside an org the caller manages."""
    return service.create_team(session, actor, body)


@bp.endpoint("/teams", query=PageArgs, response=Page[TeamOut])
def list_teams(session: Session, actor: Actor, query: PageArgs):
    """Teams of the orgs the caller can see."""
    return service.list_teams(session, query)


@bp.endpoint(
    "/users", "POST", body=CreateUser, response=UserOut, status=201, permission="users:manage"
)
def create_user(session: Session, actor: Actor, body: CreateUser):
    """Create a login with a role the caller is allowed to grant."""
    return service.create_user(session, actor, body, runtime.auth.passwords)


@bp.endpoint("/users", query=UserListArgs, response=Page[UserOut], permission="users:manage")
def list_users(session: Session, actor: Actor, query: UserListArgs):
    """Users of the orgs the caller can see, filterable by org, team, role and active flag."""
    return service.list_users(session, query)


@bp.endpoint(
    "/users/<int:user_id>", "PATCH", body=UpdateUser, response=UserOut, permission="users:manage"
)
def update_user(session: Session, actor: Actor, user_id: int, body: UpdateUser):
    """Change a user's role, team, name, password or active flag."""
    return service.update_user(session, actor, user_id, body, runtime.auth.passwords)
