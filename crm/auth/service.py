"""Login, token refresh with reuse detection, logout, and turning a token into an Actor."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, select, update
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.auth.models import RefreshToken
from crm.auth.passwords import Passwords
from crm.auth.permissions import permissions_for
from crm.auth.ratelimit import FailureCounter
from crm.auth.tokens import (
    decode_access_token,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
)
from crm.config import Settings
from crm.db import utcnow
from crm.errors import DomainError
from crm.orgs.models import Org, User
from crm.tenancy import ALL_ORGS

INVALID_CREDENTIALS = DomainError("invalid_credentials", "wrong username or password", 401)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    user: User


class Authenticator:
    def __init__(self, settings: Settings, passwords: Passwords, failures: FailureCounter):
        self.settings = settings
        self.passwords = passwords
        self.failures = failures

    def login(self, session: Session, username: str, password: str, ip: str | None) -> TokenPair:
        keys = (f"user:{username.lower()}", f"ip:{ip}")
        # per IP too, so one address cannot spray passwords over many usernames
        limits = (self.settings.login_max_failures, self.settings.login_max_failures * 10)
        if any(self.failures.failures(k) >= n for k, n in zip(keys, limits, strict=True)):
            raise DomainError(
                "too_many_attempts",
                "too many failed logins; wait a few minutes and try again",
                429,
                {"retry_after_seconds": self.settings.login_window_seconds},
            )
        user = session.scalars(
            select(User).where(User.username == username).execution_options(**ALL_ORGS)
        ).one_or_none()
        if user is None:
            self.passwords.dummy_verify()
        if (
            user is None
            or not user.active
            or not self.passwords.verify(user.password_hash, password)
        ):
            for key in keys:
                self.failures.record_failure(key)
            raise INVALID_CREDENTIALS
        self.failures.reset(keys[0])
        user.last_login_at = utcnow()
        return self._issue(session, user, family=secrets.token_hex(16))

    def refresh(self, session: Session, refresh_token: str) -> TokenPair:
        # locked: the same token presented twice at once must find itself used the second time
        row = session.scalars(
            select(RefreshToken)
            .where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
            .with_for_update()
        ).one_or_none()
        now = utcnow()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise DomainError("invalid_refresh_token", "the refresh token is not valid", 401)
        if row.used_at is not None:
            # A used token presented again means it was stolen or replayed: end the whole family.
            self._revoke_family(session, row.family, now)
            raise DomainError(
                "invalid_refresh_token",
                "the refresh token was already used",
                401,
                keep_changes=True,
            )
        row.used_at = now
        user = session.get(User, row.user_id, execution_options=ALL_ORGS)
        if user is None or not user.active:
            raise DomainError("invalid_refresh_token", "the refresh token is not valid", 401)
        return self._issue(session, user, family=row.family)

    def logout(self, session: Session, refresh_token: str) -> None:
        row = session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
        ).one_or_none()
        if row is not None:
            self._revoke_family(session, row.family, utcnow())

    def _issue(self, session: Session, user: User, family: str) -> TokenPair:
        now = utcnow()
        refresh = new_refresh_token()
        session.add(
            RefreshToken(
                user_id=user.id,
                token_hash=hash_refresh_token(refresh),
                family=family,
                expires_at=now + timedelta(days=self.settings.refresh_token_days),
            )
        )
        access = issue_access_token(
            user.id, user.org_id, self.settings.secret_key, now, self.settings.access_token_minutes
        )
        return TokenPair(access, refresh, user)

    @staticmethod
    def _revoke_family(session: Session, family: str, now: datetime) -> None:
        _revoke(session, RefreshToken.family == family, now)


ANONYMOUS = Actor(
    user_id=None, org_id=None, role="anonymous", team_id=None, permissions=frozenset()
)


def actor_from_token(
    token: str | None, settings: Settings, ip: str | None, required: bool
) -> Actor:
    """The provisional actor named by a token; `refresh_actor` confirms it against the database."""
    if token is None:
        if required:
            raise DomainError("unauthorized", "log in first: no access token was sent", 401)
        return ANONYMOUS
    claims = decode_access_token(token, settings.secret_key)
    return Actor(
        user_id=int(claims["sub"]),
        org_id=int(claims["org"]),
        role="",
        team_id=None,
        permissions=frozenset(),
        ip=ip,
    )


def refresh_actor(session: Session, provisional: Actor) -> Actor:
    """Role, team and active flag come from the database, so a change takes effect at once."""
    return act_as(session, actor_for_user(session, provisional.user_id, provisional.ip))


def act_as(session: Session, actor: Actor) -> Actor:
    """Scope the session's queries to what `actor` may see (crm/tenancy.py)."""
    session.info["actor"] = actor
    return actor


def actor_for_user(session: Session, user_id: int, ip: str | None = None) -> Actor:
    """The Actor a user acts as now; jobs use it to act with the rights of who started them."""
    # on the session's connection: a plain statement skips the ORM's per-statement work (half
    # the statement's Python), and it reads no tenant rows for the org scope to filter
    row = session.connection().execute(_actor_row(), {"user_id": user_id}).one_or_none()
    return actor_from_row(user_id, row, ip)


# What an Actor is made of; a statement that also locks or reads more of the user's row selects
# these among its columns and passes the row to actor_from_row (crm/pools/picking.py).
ACTOR_COLUMNS = (User.org_id, User.role, User.team_id, User.active, Org.kind)


def actor_from_row(user_id: int, row: Row[Any] | None, ip: str | None) -> Actor:
    """The Actor for a row of ACTOR_COLUMNS (None: no such user); 401 for a deactivated one."""
    if row is None or not row.active:
        raise DomainError("invalid_token", "this account is no longer active", 401)
    return Actor(
        user_id=user_id,
        org_id=row.org_id,
        role=row.role,
        team_id=row.team_id,
        permissions=permissions_for(row.role, row.kind),
        ip=ip,
    )


@lru_cache(maxsize=1)
def _actor_row() -> Select:
    # every request asks: columns, not the User entity, and the statement built once
    return (
        select(*ACTOR_COLUMNS)
        .join(Org, Org.id == User.org_id)
        .where(User.id == bindparam("user_id"))
        .execution_options(**ALL_ORGS)
    )


def end_logins(session: Session, user_id: int) -> None:
    """Revoke every refresh token the user holds: their logins end when the access token does."""
    _revoke(session, RefreshToken.user_id == user_id, utcnow())


def _revoke(session: Session, which: ColumnElement[bool], now: datetime) -> None:
    session.execute(
        update(RefreshToken).where(which, RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
    )
