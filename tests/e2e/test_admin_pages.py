"""Admin pages: users, settings, DNC, roles; a partner admin manages only their own org."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def user_row(browsed, username: str):
    return browsed.page.locator("#users-table tbody tr").filter(has_text=username)


def test_admin_creates_a_user_who_can_log_in_until_deactivated(login_page, new_page):
    admin = login_page("admin")
    admin.open("/admin/users")
    form = admin.page.locator("#create-form")
    form.locator("input[name=username]").fill("agent_new1")
    form.locator("input[name=display_name]").fill("新坐席")
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("select[name=role]").select_option("agent")
    form.locator("select[name=team_id]").select_option(label="北京一组")
    form.locator("button[type=submit]").click()
    row = user_row(admin, "agent_new1")
    expect(row).to_contain_text("新坐席")
    expect(row.locator("td").nth(6)).to_have_text("在用")

    newcomer = login_page("agent_new1")
    assert "/console" in newcomer.page.url

    row.get_by_role("button", name="停用").click()
    expect(row.locator("td").nth(6)).to_have_text("已停用")
    again = new_page()
    again.open("/login")
    again.page.fill("input[name=username]", "agent_new1")
    again.page.fill("input[name=password]", DEMO_PASSWORD)
    again.page.click("button[type=submit]")
    expect(again.page.locator("[data-testid=login-error]")).to_have_text("用户名或密码错误。")
    admin.screenshot("admin-users")


def test_partner_admin_sees_and_manages_only_their_org(login_page):
    browsed = login_page("sz_admin")
    browsed.open("/admin/users")
    expect(browsed.page.locator("#users-table tbody tr").first).to_be_visible()
    orgs = set(browsed.page.locator("#users-table tbody tr td:nth-child(3)").all_inner_texts())
    assert orgs == {"深圳城市合伙人"}
    roles = browsed.page.locator("#create-form select[name=role] option").all_inner_texts()
    # a partner office reviews its own applications: its admin may add reviewers
    assert sorted(roles) == sorted(["组长", "合伙人电销", "审核员"])
    assert browsed.page.locator("#create-form select[name=org_id] option").all_inner_texts() == [
        "深圳城市合伙人"
    ]
    browsed.open("/admin/orgs")
    expect(browsed.page.locator("#orgs-table tbody tr")).to_have_count(1)
    assert browsed.errors == []


def test_calling_hours_are_changed_on_the_settings_page(login_page, live_app):
    browsed = login_page("sz_admin")
    browsed.open("/admin/settings")
    end = browsed.page.locator("#settings-form input[name=calling_hours_end]")
    expect(end).not_to_have_value("")
    before = end.input_value()
    end.fill("21:30")
    browsed.page.click("#settings-form button[type=submit]")
    browsed.page.get_by_text("设置已保存").wait_for()
    org_id = live_app.api("sz_admin", "GET", "/me").json()["org_id"]
    settings = live_app.api("sz_admin", "GET", f"/orgs/{org_id}/settings").json()
    assert settings["calling_hours_end"] == "21:30"
    assert browsed.page.locator("legend", has_text="线索评分").count() == 1
    live_app.api(
        "sz_admin", "PATCH", f"/orgs/{org_id}/settings", json={"calling_hours_end": before}
    )


def test_a_number_added_to_the_dnc_list_shows_masked(login_page):
    browsed = login_page("manager")
    browsed.open("/admin/dnc")
    form = browsed.page.locator("#create-form")
    form.locator("input[name=phone]").fill("13912345678")
    form.locator("input[name=reason]").fill("客户投诉")
    form.locator("button[type=submit]").click()
    row = browsed.page.locator("#dnc-table tbody tr").filter(has_text="客户投诉")
    expect(row).to_contain_text("139****5678")
    assert "13912345678" not in browsed.page.locator("main").inner_text()


def test_roles_page_shows_who_may_reveal_personal_data(login_page):
    browsed = login_page("admin")
    browsed.open("/admin/roles")
    row = browsed.page.locator("#roles-table tr").filter(has_text="pii:reveal")
    headers = browsed.page.locator("#roles-table th").all_inner_texts()
    cells = row.locator("td").all_inner_texts()
    marks = dict(zip(headers[1:], cells[1:], strict=True))
    assert marks["经理"] == "✓" and marks["系统管理员"] == "✓" and marks["组长"] == ""


def test_agent_cannot_open_admin_pages(login_page):
    browsed = login_page("agent_bj1")
    response = browsed.open("/admin/users")
    assert response.status == 403
    assert "您没有打开此页面的权限" in browsed.page.locator("main").inner_text()
    assert browsed.page.locator("nav.mainnav a", has_text="管理").count() == 0
