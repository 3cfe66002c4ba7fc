"""Browser security: auth cookies, double-submit CSRF, and the headers every response carries."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, g, request

from crm.config import Settings
from crm.http import error_response

CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ACCESS_COOKIE = "access_token"  # crm/http.py bearer_token() reads the same name
REFRESH_COOKIE = "refresh_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Socket.IO long-polling POSTs carry no CSRF header; the dialer authenticates them itself.
CSRF_EXEMPT_PREFIXES = ("/socket.io/",)
# Pages that a wall TV or a portal may embed in a frame; everything else refuses framing.
FRAMEABLE_PREFIXES = ("/bigscreen",)


def csrf_token() -> str:
    """This browser's CSRF token: the cookie's value, or a new one set on this response."""
    if "csrf_token" not in g:
        existing = request.cookies.get(CSRF_COOKIE)
        g.csrf_token = existing or secrets.token_urlsafe(32)
        g.csrf_is_new = existing is None
    return g.csrf_token


def set_auth_cookies(response: Response, access: str, refresh: str, settings: Settings) -> None:
    # HttpOnly: page scripts never see the tokens; Strict: no other site can send them along
    common = {"httponly": True, "samesite": "Strict", "secure": request.is_secure, "path": "/"}
    response.set_cookie(ACCESS_COOKIE, access, max_age=settings.access_token_minutes * 60, **common)
    response.set_cookie(
        REFRESH_COOKIE, refresh, max_age=settings.refresh_token_days * 24 * 3600, **common
    )


def clear_auth_cookies(response: Response) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", samesite="Strict", httponly=True)


def _csrf_required() -> bool:
    if request.method in SAFE_METHODS or request.path.startswith(CSRF_EXEMPT_PREFIXES):
        return False
    if request.path.startswith("/api/"):
        # Only a cookie-authenticated call can be forged by another site: Bearer clients and
        # anonymous calls (API login) carry nothing a forger could borrow.
        return "Authorization" not in request.headers and ACCESS_COOKIE in request.cookies
    return True  # web forms and page-side endpoints (login, logout, refresh)


def _check_csrf():
    if not _csrf_required():
        return None
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    if expected and sent and hmac.compare_digest(expected, sent):
        return None
    return error_response(
        403, "csrf_failed", "the request lacks a valid CSRF token; reload the page and try again"
    )


def _content_security_policy() -> str:
    host = request.host
    policy = [
        "default-src 'self'",
        "script-src 'self'",
        # ECharts and the tooltip code set element styles; scripts stay strictly 'self'
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        f"connect-src 'self' ws://{host} wss://{host}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    if not request.path.startswith(FRAMEABLE_PREFIXES):
        policy.append("frame-ancestors 'none'")
    return "; ".join(policy)


def _secure_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = _content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith(FRAMEABLE_PREFIXES):
        response.headers["X-Frame-Options"] = "DENY"
    if g.get("csrf_is_new"):
        response.set_cookie(
            CSRF_COOKIE,
            g.csrf_token,
            httponly=True,  # pages read it from <meta name="csrf-token">, scripts never need it
            samesite="Strict",
            secure=request.is_secure,
            path="/",
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_check_csrf)
    app.after_request(_secure_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
