"""Logging in and out, wrong passwords, the language switch, and each page's security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from crm.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def test_agent_logs_in_to_the_console_and_manager_to_the_dashboard(login_page):
    agent = login_page("agent_bj1")
    assert urlsplit(agent.page.url).path == "/console"
    manager = login_page("manager")
    assert urlsplit(manager.page.url).path == "/dashboard"
    assert manager.page.locator("[data-testid=org-name]").inner_text() == "融信总部"


def test_wrong_password_shows_the_error_in_chinese(new_page):
    browsed = new_page()
    browsed.open("/login")
    browsed.page.fill("input[name=username]", "agent_bj1")
    browsed.page.fill("input[name=password]", "not-the-password")
    browsed.page.click("button[type=submit]")
    assert browsed.page.locator("[data-testid=login-error]").inner_text() == "用户名或密码错误。"
    assert browsed.page.url.endswith("/login")


def test_a_page_opened_before_login_comes_back_after_it(new_page):
    browsed = new_page()
    browsed.open("/leads?stage=new")
    assert "/login?next=" in browsed.page.url
    browsed.page.fill("input[name=username]", "manager")
    browsed.page.fill("input[name=password]", DEMO_PASSWORD)
    with browsed.page.expect_navigation():
        browsed.page.click("button[type=submit]")
    assert browsed.page.url.endswith("/leads?stage=new")


def test_switching_to_english_and_back(login_page):
    browsed = login_page("manager")
    browsed.open("/leads")
    nav = browsed.page.locator("nav.mainnav")
    assert "线索" in nav.inner_text()
    with browsed.page.expect_navigation():
        browsed.page.click("text=English")
    browsed.page.wait_for_load_state("networkidle")
    assert browsed.page.url.endswith("/leads")
    assert "Leads" in nav.inner_text()
    assert browsed.page.locator("html").get_attribute("lang") == "en"
    # page scripts read the same catalogue: the pager text comes from static/js/leads.js
    assert "leads" in browsed.page.locator("[data-testid=lead-total]").inner_text()
    with browsed.page.expect_navigation():
        browsed.page.click("text=中文")
    browsed.page.wait_for_load_state("networkidle")
    assert "线索" in nav.inner_text()
    assert "条线索" in browsed.page.locator("[data-testid=lead-total]").inner_text()


def test_logout_ends_the_login(login_page):
    browsed = login_page("agent_bj1")
    with browsed.page.expect_navigation():
        browsed.page.click("text=退出登录")
    assert browsed.page.url.endswith("/login")
    browsed.open("/leads")
    assert "/login?next=" in browsed.page.url


ADMIN_SECTIONS = ["users", "teams", "orgs", "roles", "settings", "caller-ids", "dnc", "audit"]
COMMISSION_PAGES = ["/commissions", "/commissions/settlements", "/commissions/plans"]


@pytest.mark.parametrize(
    ("username", "paths"),
    [
        ("admin", ["/leads", "/leads/1", *(f"/admin/{s}" for s in ADMIN_SECTIONS)]),
        ("sz_admin", ["/leads", "/admin/users", "/admin/settings", "/admin/audit", "/commissions"]),
        ("agent_bj1", ["/leads", "/commissions"]),
        ("finance", COMMISSION_PAGES),
    ],
)
def test_pages_send_a_csp_and_break_none_of_it(login_page, username, paths):
    browsed = login_page(username)
    for path in paths:
        response = browsed.open(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.status == 200, path
        assert browsed.page.title().endswith("贷线 Loanline"), path
        assert browsed.csp_violations == [] and browsed.errors == [], path
