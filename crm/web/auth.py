"""Login and logout pages, silent token refresh, and the `page` guard every page route uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from crm.auth import service as auth_service
from crm.auth.actor import SYSTEM, Actor
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.http import client_ip, error_response
from crm.orgs.models import Org, User
from crm.web.security import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    clear_auth_cookies,
    set_auth_cookies,
)

bp = Blueprint("web_auth", __name__)

MANAGER_ROLES = frozenset({"admin", "manager", "team_lead", "partner_admin"})
# roles that neither dial nor manage start where their work is (the console needs calls:dial)
HOME_BY_ROLE = {"reviewer": "/applications", "finance": "/commissions/settlements"}


@dataclass(frozen=True)
class WebUser:
    """The logged-in user as pages show them: who, which org, what they may do."""

    actor: Actor
    username: str
    display_name: str
    org_name: str
    org_kind: str

    @property
    def id(self) -> int:
        return self.actor.user_id

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def org_id(self) -> int:
        return self.actor.org_id

    def can(self, permission: str) -> bool:
        return self.actor.can(permission)

    def can_any(self, *permissions: str) -> bool:
        return any(self.actor.can(p) for p in permissions)


def _load_user(token: str) -> WebUser:
    settings = current_app.config["SETTINGS"]
    provisional = auth_service.actor_from_token(token, settings, ip=client_ip(), required=True)
    with db.unit_of_work(provisional, readonly=True) as session:
        actor = auth_service.refresh_actor(session, provisional)
        user, org = session.execute(
            select(User, Org).join(Org, Org.id == User.org_id).where(User.id == actor.user_id)
        ).one()
        return WebUser(actor, user.username, user.display_name, org.name, org.kind)


def _refresh_tokens() -> str | None:
    """Trade the refresh cookie for a new pair (set on this response); the new access token."""
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    try:
        with db.unit_of_work(SYSTEM) as session:
            pair = runtime.auth.refresh(session, refresh)
    except DomainError:
        return None
    g.new_tokens = (pair.access_token, pair.refresh_token)
    return pair.access_token


def _try_load(token: str | None) -> WebUser | None:
    if not token:
        return None
    try:
        return _load_user(token)
    except DomainError:  # expired, revoked or deactivated: treated as logged out
        return None


def current_user() -> WebUser | None:
    """The user named by the access cookie, refreshed silently when it has expired."""
    if "web_user" not in g:
        user = _try_load(request.cookies.get(ACCESS_COOKIE))
        g.web_user = user or _try_load(_refresh_tokens())
    return g.web_user


def _after_page(response):
    if "new_tokens" in g:
        access, refresh = g.pop("new_tokens")
        set_auth_cookies(response, access, refresh, current_app.config["SETTINGS"])
    return response


def page(*permissions: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a page: log in first (back here afterwards), then hold one of `permissions` if any
    are given (the application pages serve both the agent's and the reviewer's side)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(**kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(f"/login?next={request.full_path.rstrip('?')}")
            if permissions and not user.can_any(*permissions):
                return render_template(
                    "base.html", page_error=_("You do not have permission to open this page.")
                ), 403
            return view(**kwargs)

        # what the page asks for, readable by the tenant-isolation matrix (tests)
        guarded.permissions = permissions
        return guarded

    return decorator


@bp.app_context_processor
def _inject_user() -> dict[str, Any]:
    return {"current_user": g.get("web_user")}


def home_path(role: str) -> str:
    return "/dashboard" if role in MANAGER_ROLES else HOME_BY_ROLE.get(role, "/console")


def _safe_next(target: str | None) -> str | None:
    # a local path only: never let the login form bounce the user to another site
    if not target:
        return None
    parts = urlsplit(target)
    # browsers read a backslash like a slash, so "/\host" would leave the site as "//host" does
    if parts.scheme or parts.netloc or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    return target


@bp.get("/")
@page()
def index():
    """Agents start at the console, managers and team leads at the dashboard."""
    return redirect(home_path(g.web_user.role))


LOGIN_ERRORS = {
    "invalid_credentials": lambda details: _("Wrong username or password."),
    "too_many_attempts": lambda details: _(
        "Too many failed logins. Wait %(minutes)s minutes and try again.",
        minutes=max(1, details.get("retry_after_seconds", 900) // 60),
    ),
}


def _log_in(username: str, password: str, next_page: str | None):
    """A redirect with the token cookies set, or (error message, status) for the form."""
    if not username or not password:
        return _("Enter your username and password."), 422
    try:
        with db.unit_of_work(SYSTEM) as session:
            pair = runtime.auth.login(session, username, password, client_ip())
            home = home_path(pair.user.role)
    except DomainError as err:
        describe = LOGIN_ERRORS.get(err.code)
        return (describe(err.details) if describe else err.message), err.status
    response = redirect(next_page or home)
    set_auth_cookies(
        response, pair.access_token, pair.refresh_token, current_app.config["SETTINGS"]
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a successful login sets the token cookies and opens the user's home."""
    next_page = _safe_next(request.values.get("next"))
    if request.method == "GET":
        user = current_user()
        if user is not None:  # already logged in: a bookmark of /login goes straight on
            return redirect(next_page or home_path(user.role))
        return render_template("login.html", next_page=next_page)
    username = request.form.get("username", "").strip()
    outcome = _log_in(username, request.form.get("password", ""), next_page)
    if not isinstance(outcome, tuple):
        return outcome
    error, status = outcome
    return render_template(
        "login.html", error=error, username=username, next_page=next_page
    ), status


@bp.post("/logout")
def logout():
    """Revoke the refresh token's whole login and drop the cookies."""
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        with db.unit_of_work(SYSTEM) as session:
            runtime.auth.logout(session, refresh)
    response = redirect("/login")
    clear_auth_cookies(response)
    return response


@bp.post("/auth/refresh")
def refresh():
    """Page scripts call this on a 401 (static/js/api.js): new cookies, or 401 to log in again."""
    if _refresh_tokens() is None:
        response, status = error_response(
            401, "invalid_refresh_token", "the login has expired; log in again"
        )
        clear_auth_cookies(response)
        return response, status
    return jsonify({"ok": True})


def init_app(app) -> None:
    app.after_request(_after_page)
    app.register_blueprint(bp)
