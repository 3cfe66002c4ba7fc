"""JWT access tokens (short-lived, HS256) and opaque refresh tokens (stored only as a hash)."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from crm.errors import DomainError

ALGORITHM = "HS256"


def issue_access_token(user_id: int, org_id: int, secret: str, now: datetime, minutes: int) -> str:
    claims = {
        "sub": str(user_id),
        "org": org_id,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> dict[str, Any]:
    """Only HS256 with our key is accepted: `alg=none`, other algorithms and other keys fail.

    A console sends the same token with every request until it expires: its signature is
    checked once (a cache keyed by the whole token, signature included), its expiry every time."""
    claims = _verified(token, secret)
    if claims["exp"] <= time.time():
        raise DomainError("token_expired", "the access token has expired", 401)
    return claims


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub", "typ"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise DomainError("token_expired", "the access token has expired", 401) from exc
    except jwt.InvalidTokenError as exc:
        raise DomainError("invalid_token", "the access token is not valid", 401) from exc
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise DomainError("invalid_token", "the access token is not valid", 401)
    return claims


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # a fast hash is right here: the token is 256 random bits, not a guessable password
    return hashlib.sha256(token.encode()).hexdigest()
