"""The working day, team leads, reviewers and finance (issue 21): a team lead assigns within the
team, with each skipped lead's reason on the page, and each role lands on the page of its work."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.working_day import new_user
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def other_team_agent(live_app: LiveServer) -> dict:
    """An agent of another HQ team than the demo team lead's."""
    org_id = live_app.api("manager", "GET", "/me").json()["org_id"]
    made = live_app.api("manager", "POST", "/teams", json={"org_id": org_id, "name": "上海一组"})
    assert made.status_code in (201, 409), made.text
    return new_user(live_app, team="上海一组")


def user_id(live: LiveServer, username: str) -> int:
    return live.api(username, "GET", "/me").json()["id"]


def test_a_team_lead_assigns_within_the_team_and_sees_why_a_lead_was_skipped(
    live_app, login_page, other_team_agent
):
    owned = live_app.claim_lead("agent_bj2")  # 赵丽 of the team lead's own team
    lead = login_page("lead_bj")
    page = lead.page
    lead.open(f"/leads?owner_id={user_id(live_app, 'agent_bj2')}")
    assignees = page.locator("#assign-to option").all_inner_texts()
    assert {"张小明", "赵丽"} <= set(assignees)
    assert other_team_agent["display_name"] not in assignees  # another team's agent
    owners = page.locator("select[name=owner_id] option").all_inner_texts()
    assert "赵丽" in owners and len(owners) > 1
    page.locator(f"tr[data-lead-id='{owned['id']}'] input[type=checkbox]").check()

    page.select_option("select[name=owner_id]", "")
    page.select_option("select[name=pool]", "public")
    page.click("#lead-filters button[type=submit]")
    page.locator("#lead-table tbody tr").first.wait_for()
    page.locator("#lead-table tbody input[type=checkbox]").first.check()
    expect(page.get_by_test_id("selected-count")).to_contain_text("2")
    page.select_option("#assign-to", label="赵丽")
    page.click("#assign-selected")
    page.wait_for_selector(".toast >> text=已分配 1 条，跳过 1 条")
    expect(page.locator(f"#assign-result [data-lead-id='{owned['id']}']")).to_have_text(
        f"#{owned['id']}: 该坐席已是此线索的负责人。"
    )
    assert lead.errors == []

    # outside the team: refused, and another team's lead is skipped with the reason
    theirs = live_app.claim_lead(other_team_agent["username"])
    refused = live_app.api(
        "lead_bj",
        "POST",
        "/leads/assign",
        json={"lead_ids": [owned["id"]], "to_user_id": other_team_agent["id"]},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "other_team")
    moved = live_app.api(
        "lead_bj",
        "POST",
        "/leads/assign",
        json={"lead_ids": [theirs["id"]], "to_user_id": user_id(live_app, "agent_bj1")},
    ).json()
    assert [s["code"] for s in moved["skipped"]] == ["other_team"]


@pytest.mark.parametrize(
    ("username", "home", "heading"),
    [
        ("reviewer", "/applications", "进件"),
        ("finance", "/commissions/settlements", "结算"),
        ("lead_bj", "/dashboard", "转化漏斗"),
    ],
)
def test_each_role_lands_on_the_page_of_its_work(login_page, username, home, heading):
    browsed = login_page(username)
    assert urlsplit(browsed.page.url).path == home
    assert heading in browsed.page.locator("h1").first.inner_text()
    assert "没有打开此页面的权限" not in browsed.page.content()
