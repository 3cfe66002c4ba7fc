"""Login, token refresh and logout through the HTTP API."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import jwt

from crm.auth.tokens import issue_access_token
from crm.db import utcnow

LOGIN = "/api/v1/auth/login"


def login(client, username, password="correct-horse-battery"):
    return client.post(LOGIN, json={"username": username, "password": password})


def test_login_refresh_logout_round_trip(client, make):
    user = make.user("agent")
    first = login(client, user.username)
    assert first.status_code == 200
    assert first.json["user"]["username"] == user.username
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {first.json['access_token']}"})
    assert me.json["role"] == "agent" and "leads:claim" in me.json["permissions"]
    assert me.json["org_timezone"] == "Asia/Shanghai"  # the default office zone

    second = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first.json["refresh_token"]}
    )
    assert second.status_code == 200
    assert second.json["refresh_token"] != first.json["refresh_token"]

    out = client.post("/api/v1/auth/logout", json={"refresh_token": second.json["refresh_token"]})
    assert out.status_code == 200
    after = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second.json["refresh_token"]}
    )
    assert after.status_code == 401
    assert after.json["error"]["code"] == "invalid_refresh_token"


def test_reused_refresh_token_is_refused_and_ends_the_login(client, make):
    user = make.user("agent")
    first = login(client, user.username).json["refresh_token"]
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first}).json
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401
    assert replay.json["error"]["code"] == "invalid_refresh_token"
    # the thief's replay also revokes the token the legitimate user rotated to
    legit = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert legit.status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make):
    user = make.user("agent")
    wrong = login(client, user.username, "not-the-password")
    unknown = login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_inactive_user_cannot_log_in(client, make):
    user = make.user("agent", active=False)
    assert login(client, user.username).status_code == 401


def test_brute_force_login_gets_429_even_with_the_right_password(client, make, app):
    user = make.user("agent")
    limit = app.config["SETTINGS"].login_max_failures
    for _ in range(limit):
        assert login(client, user.username, "guess-guess").status_code == 401
    blocked = login(client, user.username)
    assert blocked.status_code == 429
    assert blocked.json["error"]["code"] == "too_many_attempts"


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_tampered_token_is_refused(client, make):
    token = login(client, make.user("agent").username).json["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = client.get("/api/v1/me", headers=_auth(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_a_token_accepted_before_is_refused_once_it_expires(client, make, app, monkeypatch):
    # verified tokens are cached (crm/auth/tokens.py): the cache must not outlive the expiry
    user = make.user("agent")
    token = issue_access_token(user.id, user.org_id, app.config["SETTINGS"].secret_key, utcnow(), 1)
    assert client.get("/api/v1/me", headers=_auth(token)).status_code == 200
    later = time.time() + 61
    monkeypatch.setattr("crm.auth.tokens.time.time", lambda: later)
    response = client.get("/api/v1/me", headers=_auth(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_expired_token_is_refused(client, make, app):
    user = make.user("agent")
    old = utcnow() - timedelta(hours=1)
    token = issue_access_token(user.id, user.org_id, app.config["SETTINGS"].secret_key, old, 15)
    response = client.get("/api/v1/me", headers=_auth(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_alg_none_token_is_refused(client, make):
    user = make.user("admin")
    now = int(utcnow().timestamp())
    claims = {
        "sub": str(user.id),
        "org": user.org_id,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    response = client.get("/api/v1/me", headers=_auth(unsigned))
    assert response.status_code == 401


def test_token_signed_with_another_key_is_refused(client, make):
    user = make.user("admin")
    token = issue_access_token(
        user.id, user.org_id, "some-other-secret-of-enough-length!!", utcnow(), 15
    )
    assert client.get("/api/v1/me", headers=_auth(token)).status_code == 401


def test_deactivated_user_loses_access_at_once(client, make, auth):
    agent = make.user("agent")
    headers = auth.headers_for(agent.username)
    admin = auth.login("admin")
    assert (
        client.patch(f"/api/v1/users/{agent.id}", json={"active": False}, headers=admin).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_request_without_token_gets_401_in_error_shape(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_me_gives_the_offices_time_zone_the_pages_count_today_in(client, make):
    office = make.org("partner", settings={"timezone": "America/Los_Angeles"})
    user = make.user("partner_agent", org=office)
    token = login(client, user.username).json["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["org_timezone"] == "America/Los_Angeles"
