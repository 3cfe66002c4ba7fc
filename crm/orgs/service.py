"""Use cases for orgs, teams and users; every read goes through the session's org scope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.passwords import Passwords
from crm.auth.permissions import GRANTABLE, roles_allowed_in
from crm.auth.service import end_logins
from crm.compliance import audit
from crm.db import Base
from crm.errors import Conflict, DomainError, Forbidden
from crm.orgs.models import Org, Team, User
from crm.orgs.schemas import (
    CreateOrg,
    CreateTeam,
    CreateUser,
    OrgSettings,
    UpdateUser,
    UserListArgs,
)
from crm.queries import get_visible, paginate, where_given
from crm.schemas import PageArgs, PageResult


def create_org(session: Session, actor: Actor, data: CreateOrg) -> Org:
    org = Org(
        name=data.name, kind=data.kind, cities=data.cities, settings=data.settings.model_dump()
    )
    # the unique index decides, so two admins creating it at once get a 409 too
    _add_unique(session, org, "duplicate_org", f"an org named {data.name!r} already exists")
    return org


def find_or_create_org(session: Session, name: str, kind: str) -> Org:
    """CLI helper: the org of that name, created with default settings when missing."""
    org = session.scalars(select(Org).where(Org.name == name)).one_or_none()
    if org is None:
        org = Org(name=name, kind=kind, cities=[], settings=OrgSettings().model_dump())
        session.add(org)
        session.flush()
    return org


def list_orgs(session: Session, args: PageArgs) -> PageResult:
    return paginate(session, select(Org).order_by(Org.id), args)


def get_org_settings(session: Session, org_id: int) -> OrgSettings:
    org = get_visible(session, Org, org_id, "org")
    return OrgSettings.model_validate(org.settings, strict=False)


def update_org_settings(
    session: Session, actor: Actor, org_id: int, changes: OrgSettings
) -> OrgSettings:
    """Change the keys given in `changes`, keep the others; the audit log records each changed
    key before and after (calling hours and caps are compliance settings)."""
    org = get_visible(session, Org, org_id, "org")
    before = OrgSettings.model_validate(org.settings, strict=False).model_dump(mode="json")
    after = _merged(before, _given(changes))
    settings = OrgSettings.model_validate(after, strict=False)
    if settings.calling_hours_start >= settings.calling_hours_end:
        raise DomainError(
            "invalid_calling_hours", "calling hours must start before they end (same day)"
        )
    changed = {
        k: {"before": before.get(k), "after": v} for k, v in after.items() if before.get(k) != v
    }
    if changed:
        org.settings = settings.model_dump(mode="json")
        audit.record(session, actor, "settings_changed", org.id, details={"changes": changed})
    return settings


def _given(body: BaseModel) -> dict[str, Any]:
    """The keys a partial body set, nested models included: a PATCH of one scoring weight
    keeps the other weights."""
    given = body.model_dump(mode="json", include=body.model_fields_set)
    for key in body.model_fields_set:
        if isinstance(value := getattr(body, key), BaseModel):
            given[key] = _given(value)
    return given


def _merged(stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(stored)
    for key, value in changes.items():
        old = stored.get(key)
        both_nested = isinstance(value, dict) and isinstance(old, dict)
        merged[key] = _merged(old, value) if both_nested else value
    return merged


def create_team(session: Session, actor: Actor, data: CreateTeam) -> Team:
    get_visible(session, Org, data.org_id, "org")
    if data.lead_user_id is not None:
        _user_in_org(session, data.lead_user_id, data.org_id)
    team = Team(org_id=data.org_id, name=data.name, lead_user_id=data.lead_user_id)
    _add_unique(session, team, "duplicate_team", f"the org already has a team named {data.name!r}")
    return team


def list_teams(session: Session, args: PageArgs) -> PageResult:
    return paginate(session, select(Team).order_by(Team.id), args)


def create_user(session: Session, actor: Actor, data: CreateUser, passwords: Passwords) -> User:
    org = get_visible(session, Org, data.org_id, "org")
    _check_role_grant(actor, data.role, org)
    if data.team_id is not None:
        _team_in_org(session, data.team_id, org.id)
    user = User(
        username=data.username,
        password_hash=passwords.hash(data.password),
        display_name=data.display_name,
        role=data.role,
        org_id=org.id,
        team_id=data.team_id,
    )
    _add_unique(session, user, "duplicate_username", f"username {data.username!r} is taken")
    return user


def update_user(
    session: Session, actor: Actor, user_id: int, data: UpdateUser, passwords: Passwords
) -> User:
    user = get_visible(session, User, user_id, "user")
    org = session.get(Org, user.org_id)
    # changing someone who outranks you would be a back door to their powers
    _check_role_grant(actor, user.role, org, changing_existing=True)
    changes = data.model_fields_set
    if "role" in changes and data.role is not None:
        _check_role_grant(actor, data.role, org)
        user.role = data.role
    if "team_id" in changes:
        if data.team_id is not None:
            _team_in_org(session, data.team_id, user.org_id)
        user.team_id = data.team_id
    if data.active is not None:
        if user.id == actor.user_id and not data.active:
            raise DomainError("cannot_deactivate_self", "you cannot deactivate your own account")
        user.active = data.active
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.password is not None:
        user.password_hash = passwords.hash(data.password)
    if data.password is not None or data.active is False:
        # a stolen login must not outlive a password reset, nor come back with a reactivation
        end_logins(session, user.id)
    session.flush()
    return user


def list_users(session: Session, args: UserListArgs) -> PageResult:
    stmt = where_given(
        select(User).order_by(User.id),
        (User.org_id, args.org_id),
        (User.team_id, args.team_id),
        (User.role, args.role),
        (User.active, args.active),
    )
    return paginate(session, stmt, args)


def _check_role_grant(actor: Actor, role: str, org: Org, changing_existing: bool = False) -> None:
    if role not in GRANTABLE.get(actor.role, frozenset()):
        verb = "change a user with" if changing_existing else "grant"
        raise Forbidden(f"a {actor.role} cannot {verb} the role {role!r}")
    if not changing_existing and role not in roles_allowed_in(org.kind):
        raise DomainError(
            "role_not_allowed_in_org", f"role {role!r} does not exist in a {org.kind} org"
        )


def _user_in_org(session: Session, user_id: int, org_id: int) -> User:
    user = get_visible(session, User, user_id, "user")
    if user.org_id != org_id:
        raise DomainError("wrong_org", "that user belongs to another org")
    return user


def _team_in_org(session: Session, team_id: int, org_id: int) -> Team:
    team = get_visible(session, Team, team_id, "team")
    if team.org_id != org_id:
        raise DomainError("wrong_org", "that team belongs to another org")
    return team


def _add_unique(session: Session, obj: Base, code: str, message: str) -> None:
    """Insert inside a savepoint so a unique clash is a 409, not a broken transaction."""
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError as exc:
        raise Conflict(code, message) from exc
