"""Manager screens in a real browser: the funnel follows a stage move, the wallboard shows an
agent's state change live, the big screen renders its KPIs and charts."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
SCREENSHOT_SIZE = {"width": 1440, "height": 900}


def stage_count(page, stage: str) -> int:
    return int(page.get_by_test_id(f"stage-{stage}").inner_text())


def test_funnel_count_goes_up_after_a_stage_move(login_page, live_app: LiveServer):
    manager = login_page("manager")
    page = manager.page
    assert urlsplit(page.url).path == "/dashboard"
    assert page.title().startswith("仪表盘")
    page.get_by_test_id("stage-contacted").wait_for()
    contacted = stage_count(page, "contacted")
    assert page.locator("#funnel-chart canvas").count() == 1
    assert page.locator("#agent-table tbody tr", has_text="张小明").count() == 1

    lead = live_app.api("manager", "GET", "/leads", params={"pool": "public", "stage": "new"})
    lead_id = lead.json()["items"][0]["id"]
    moved = live_app.api("manager", "POST", f"/leads/{lead_id}/stage", json={"stage": "contacted"})
    assert moved.status_code == 200, moved.text
    page.click("#refresh-report")
    page.wait_for_function(
        "n => document.querySelector('[data-testid=stage-contacted]').textContent == n",
        arg=str(contacted + 1),
    )

    page.select_option("select[name=group_by]", "city")
    page.wait_for_selector("#funnel-groups tbody tr >> text=北京")
    assert manager.errors == []
    page.set_viewport_size(SCREENSHOT_SIZE)
    page.select_option("select[name=group_by]", "source")
    page.wait_for_selector("#funnel-groups tbody tr >> text=百度推广")
    page.wait_for_timeout(1500)  # let the charts' entry animation finish
    manager.screenshot("dashboard")


def test_wallboard_shows_an_agent_going_on_break_live(login_page, live_app: LiveServer):
    agent_id = live_app.api("agent_bj2", "GET", "/me").json()["id"]
    manager = login_page("manager")
    manager.open("/wallboard")
    board = manager.page
    board.wait_for_selector("#live-status[data-status=connected]")
    state = board.get_by_test_id(f"agent-state-{agent_id}")
    state.wait_for()

    agent = login_page("agent_bj2")
    agent.page.wait_for_selector("#live-status[data-status=connected]")
    board.wait_for_selector(f"[data-testid=agent-state-{agent_id}] >> text=空闲")
    agent.page.keyboard.press("b")
    board.wait_for_selector(f"[data-testid=agent-state-{agent_id}] >> text=小休")
    assert "赵丽" in board.locator(f"tr[data-agent-id='{agent_id}']").inner_text()
    assert manager.errors == [] and agent.errors == []
    manager.screenshot("wallboard")


def test_big_screen_renders_live_kpis_and_charts(login_page):
    manager = login_page("manager")
    page = manager.page
    page.set_viewport_size(SCREENSHOT_SIZE)
    response = manager.open("/bigscreen")
    # a wall TV may frame it: no frame-ancestors 'none' here, unlike every other page
    assert "frame-ancestors 'none'" not in response.headers.get("content-security-policy", "")
    page.wait_for_selector("#live-status[data-status=connected]")
    page.get_by_test_id("kpi-calls").wait_for()
    assert page.get_by_test_id("kpi-calls").inner_text().isdigit()
    assert page.locator("#bs-funnel canvas").count() == 1
    assert page.locator("#bs-hourly canvas").count() == 1
    page.wait_for_selector("#bs-cities li")
    assert "北京" in page.locator("#bs-cities").inner_text()
    assert manager.errors == []
    page.wait_for_timeout(1500)  # let the charts' entry animation finish
    manager.screenshot("bigscreen")
