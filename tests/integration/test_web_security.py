"""Browser security through the web routes: login cookies, double-submit CSRF, token refresh,
security headers, page guards and the language switch."""

from __future__ import annotations

import re

import pytest

from tests.factories import Factory

PASSWORD = Factory.PASSWORD


def csrf_from(page_html: bytes) -> str:
    return re.search(rb'name="csrf-token" content="([^"]+)"', page_html).group(1).decode()


def directives(policy: str) -> dict[str, str]:
    parts = (d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def web_login(client, username: str, password: str = PASSWORD):
    token = csrf_from(client.get("/login").data)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    return response, token


@pytest.fixture
def agent_in_browser(client, make):
    """An agent logged in through the login form; yields (user, csrf token)."""
    user = make.user("agent")
    response, token = web_login(client, user.username)
    assert response.status_code == 302
    return user, token


def test_login_sets_httponly_strict_cookies_and_opens_the_console(client, make):
    user = make.user("agent")
    response, _ = web_login(client, user.username)
    assert response.status_code == 302 and response.location == "/console"
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("access_token", "refresh_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Strict" in cookies[name]


def test_manager_lands_on_the_dashboard(client, make):
    response, _ = web_login(client, make.user("manager").username)
    assert response.location == "/dashboard"


def test_wrong_password_is_shown_on_the_form_in_chinese(client, make):
    response, _ = web_login(client, make.user("agent").username, "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误。" in response.text


def test_repeated_failures_show_the_wait_message(client, make, app):
    user = make.user("agent")
    for _ in range(app.config["SETTINGS"].login_max_failures):
        web_login(client, user.username, "wrong-password")
    response, _ = web_login(client, user.username)
    assert response.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试。" in response.text


def test_login_form_without_the_csrf_token_is_refused(client, make):
    user = make.user("agent")
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 403 and response.json["error"]["code"] == "csrf_failed"


def test_cookie_authenticated_api_write_needs_the_csrf_header(client, make, agent_in_browser):
    user, token = agent_in_browser
    lead = make.lead(org=_org_of(user))
    refused = client.post(f"/api/v1/leads/{lead.id}/claim")
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "csrf_failed"
    wrong = client.post(f"/api/v1/leads/{lead.id}/claim", headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    claimed = client.post(f"/api/v1/leads/{lead.id}/claim", headers={"X-CSRF-Token": token})
    assert claimed.status_code == 200 and claimed.json["owner_id"] == user.id


def test_cookie_authenticated_reads_need_no_csrf_header(client, agent_in_browser):
    user, _ = agent_in_browser
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json["id"] == user.id


def test_bearer_clients_are_not_asked_for_a_csrf_token(client, make, auth):
    agent = make.user("agent")
    headers = auth.headers_for(agent.username)
    lead = make.lead(org=_org_of(agent))
    response = client.post(f"/api/v1/leads/{lead.id}/claim", headers=headers)
    assert response.status_code == 200


def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie(client, agent_in_browser):
    old_refresh = client.get_cookie("refresh_token").value
    client.set_cookie("access_token", "expired-or-garbage")
    page = client.get("/leads")
    assert page.status_code == 200
    assert client.get_cookie("refresh_token").value != old_refresh
    assert client.get("/api/v1/me").status_code == 200


def test_page_script_refresh_and_logout(client, agent_in_browser):
    _, token = agent_in_browser
    refreshed = client.post("/auth/refresh", headers={"X-CSRF-Token": token})
    assert refreshed.status_code == 200 and refreshed.json == {"ok": True}
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and out.location == "/login"
    assert client.get_cookie("access_token") is None
    assert client.get("/leads").status_code == 302


def test_refresh_without_a_login_answers_401(client):
    token = csrf_from(client.get("/login").data)
    response = client.post("/auth/refresh", headers={"X-CSRF-Token": token})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_refresh_token"


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/me", "/leads", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_big_screen_may_be_framed(client):
    response = client.get("/bigscreen")
    assert "frame-ancestors" not in directives(response.headers["Content-Security-Policy"])
    assert "X-Frame-Options" not in response.headers


def test_pages_redirect_to_login_and_come_back(client):
    response = client.get("/leads?stage=new")
    assert response.status_code == 302
    assert response.location == "/login?next=/leads?stage=new"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example"])
def test_login_never_redirects_off_site(client, make, target):
    user = make.user("agent")
    token = csrf_from(client.get("/login").data)
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.location == "/console"


def test_the_login_page_sends_a_logged_in_user_on(client, agent_in_browser):
    assert client.get("/login?next=/leads").location == "/leads"


def test_agent_gets_403_page_for_admin(client, agent_in_browser):
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "您没有打开此页面的权限。" in response.text


def test_language_switch_goes_back_and_serves_the_catalogue(client):
    switched = client.get("/lang/en", headers={"Referer": "http://localhost/leads?pool=public"})
    assert switched.location == "/leads?pool=public"
    english = client.get("/i18n/messages.json").json
    assert (english["lang"], english["messages"]) == ("en", {})
    assert english["errors"]["not_found"] == "Not found, or not visible to your org."
    assert "Log in" in client.get("/login").text
    client.get("/lang/zh-CN")
    catalogue = client.get("/i18n/messages.json").json
    assert catalogue["lang"] == "zh-CN" and catalogue["messages"]["Leads"] == "线索"
    assert catalogue["errors"]["not_found"] == "未找到，或不属于您的机构。"


def test_language_switch_ignores_another_sites_referrer(client):
    switched = client.get("/lang/en", headers={"Referer": "https://evil.example/phish"})
    assert switched.location == "/"


def _org_of(user):
    from crm.auth.actor import SYSTEM
    from crm.extensions import db
    from crm.orgs.models import Org

    with db.unit_of_work(SYSTEM) as session:
        org = session.get(Org, user.org_id)
        session.expunge(org)
    return org
