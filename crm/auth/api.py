"""Login, refresh, logout and who-am-I endpoints."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.schemas import LoggedOut, Login, Me, RefreshRequest, TokenPairOut
from crm.extensions import runtime
from crm.http import ApiBlueprint
from crm.orgs.models import User
from crm.pools.ownership import org_settings

bp = ApiBlueprint("auth", __name__, tag="auth")


@bp.endpoint("/auth/login", "POST", body=Login, response=TokenPairOut, public=True)
def login(session: Session, actor: Actor, body: Login):
    """Exchange username and password for an access token and a single-use refresh token."""
    return runtime.auth.login(session, body.username, body.password, actor.ip)


@bp.endpoint("/auth/refresh", "POST", body=RefreshRequest, response=TokenPairOut, public=True)
def refresh(session: Session, actor: Actor, body: RefreshRequest):
    """Trade a refresh token (once) for a new pair; a reused token ends the whole login."""
    return runtime.auth.refresh(session, body.refresh_token)


@bp.endpoint("/auth/logout", "POST", body=RefreshRequest, response=LoggedOut, public=True)
def logout(session: Session, actor: Actor, body: RefreshRequest):
    """Revoke the refresh token and every token rotated from the same login."""
    runtime.auth.logout(session, body.refresh_token)
    return LoggedOut()


@bp.endpoint("/me", response=Me)
def me(session: Session, actor: Actor):
    """The logged-in user with the permissions of their role."""
    user = session.get(User, actor.user_id)
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        org_id=user.org_id,
        team_id=user.team_id,
        permissions=sorted(actor.permissions),
        org_timezone=org_settings(session, user.org_id).timezone,
    )
