"""The agent console in a real browser: claim, dial through the simulated carrier, screen pop,
disposition with a follow-up, and the follow-up on the timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")
SCREENSHOT_SIZE = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def caller_id(live_app: LiveServer) -> None:
    """HQ needs an outbound number before anyone can dial (the demo data has none)."""
    added = live_app.api("manager", "POST", "/caller-ids", json={"number": "01088886666"})
    assert added.status_code in (201, 409), added.text


def tomorrow_at_ten() -> str:
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    return f"{day.isoformat()}T10:00"


def test_agent_claims_dials_and_records_a_followup(login_page, caller_id):
    agent = login_page("agent_bj1")
    page = agent.page
    assert page.url.endswith("/console")
    assert page.title().startswith("坐席工作台")
    page.wait_for_selector("#live-status[data-status=connected]")
    assert page.locator("#my-state").inner_text() == "空闲"

    page.click("[data-list=public]")
    first = page.locator(".work-row").first
    phone = first.locator(".row-phone").inner_text()
    assert MASKED_PHONE.match(phone)
    first.locator("[data-claim]").click()
    page.wait_for_selector(".toast.success")
    card = page.locator("#lead-card")
    assert card.get_by_test_id("lead-phone").inner_text() == phone
    assert "我的客户" in card.inner_text()

    page.keyboard.press("d")
    pop = page.locator("#screen-pop")
    pop.wait_for(state="visible")
    assert phone in pop.inner_text()
    page.keyboard.press("h")
    page.wait_for_selector("#call-panel[data-state=ended]")
    assert page.get_by_test_id("call-state").inner_text() == "已结束"

    page.keyboard.press("6")  # 有意向
    page.fill("textarea[name=note]", "客户有意向，明天上午十点回电")
    page.fill("input[name=next_followup_at]", tomorrow_at_ten())
    page.locator("textarea[name=note]").press("Control+Enter")
    page.wait_for_selector(".toast.success >> text=结果已保存")

    timeline = page.locator("#timeline")
    followup = timeline.locator(".event-followup").first
    followup.wait_for()
    assert "客户有意向，明天上午十点回电" in followup.inner_text()
    assert "有意向" in followup.inner_text()
    assert "通话" in timeline.locator(".event-call").first.inner_text()
    page.click("[data-list=mine]")
    page.locator(".work-row", has_text=phone).wait_for()
    assert agent.errors == []

    page.set_viewport_size(SCREENSHOT_SIZE)
    page.wait_for_timeout(500)  # the viewport change relays out the page
    agent.screenshot("console")


def test_dialing_needs_a_lead_and_n_previews_the_best_public_one(login_page, caller_id):
    agent = login_page("agent_bj2")
    page = agent.page
    page.wait_for_selector("#live-status[data-status=connected]")
    page.keyboard.press("d")
    page.wait_for_selector(".toast.error >> text=请先打开一条线索")
    page.keyboard.press("n")  # preview: the best public lead comes to the front
    page.locator("#lead-card").get_by_test_id("lead-phone").wait_for()
    assert "公海" in page.locator("#lead-card").inner_text()
    assert agent.errors == []


def test_auto_mode_dials_the_next_lead_once_the_outcome_is_saved(login_page, caller_id):
    lead = login_page("lead_bj")  # a team lead covering a desk: the console is theirs too
    lead.open("/console")
    page = lead.page
    page.wait_for_selector("#live-status[data-status=connected]")
    page.check("#auto-mode")  # dials the best public lead at once
    pop = page.locator("#screen-pop")
    pop.wait_for(state="visible")
    first_phone = page.locator("#lead-card").get_by_test_id("lead-phone").inner_text()
    # the console reloads the lead when its call ends; hold that reload until the agent has
    # picked a stage, as a slow network does: the choice must survive it
    held = []
    page.route("**/api/v1/leads/*", lambda route: held.append(route))
    page.keyboard.press("h")
    page.wait_for_selector("#call-panel[data-state=ended]")

    page.keyboard.press("4")  # 无意向
    page.select_option("select[name=stage]", "lost")
    with page.expect_response(lambda r: r.request.method == "GET" and "/leads/" in r.url):
        for route in held:
            route.continue_()
    page.unroute("**/api/v1/leads/*")
    page.locator("textarea[name=note]").press("Control+Enter")
    page.wait_for_selector(".toast.error >> text=请填写流失原因")
    page.fill("input[name=reason]", "已在别家办理")
    page.locator("input[name=reason]").press("Control+Enter")
    page.wait_for_selector(".toast.success >> text=结果已保存")

    page.wait_for_function(
        "first => !document.querySelector('#screen-pop').hidden && "
        "!document.querySelector('#screen-pop').textContent.includes(first)",
        arg=first_phone,
    )
    assert page.locator("#auto-mode").is_checked()
    page.uncheck("#auto-mode")
    page.locator("#notices", has_text="自动外呼已关闭").wait_for()
    assert lead.errors == []
