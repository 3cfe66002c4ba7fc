"""The working day, numbers that agree (issue 21): a lead's score the same in the list and on its
card, before and after a call re-scores it; the dashboard and the big screen counting the same
"last 30 days"; funnel bars sized by their counts; channel cost and ROI from a price set in
admin."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.working_day import agent_with_a_lead, ensure_caller_id, open_console
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
# every bar's width against the first (new) stage's, as drawn by ECharts
FUNNEL_WIDTHS = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('funnel-chart'));
  const data = chart.getModel().getSeriesByIndex(0).getData();
  return data.mapArray('value', (value, index) => {
    const [left, right] = data.getItemLayout(index).points;
    return { value, width: right[0] - left[0] };
  });
}"""


@pytest.fixture(scope="module", autouse=True)
def caller_id(live_app: LiveServer) -> None:
    ensure_caller_id(live_app)


def api_score(live: LiveServer, username: str, lead_id: int) -> int:
    return live.api(username, "GET", f"/leads/{lead_id}").json()["score"]


def test_a_leads_score_is_the_same_in_the_list_and_on_its_card(live_app, login_page):
    agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    page = browsed.page
    open_console(browsed)
    page.click("[data-list=mine]")
    row = page.locator(f".work-row[data-lead-id='{lead['id']}']")
    row.locator(".row-open").click()
    card_score = page.locator("#lead-card").get_by_test_id("lead-score")
    card_score.wait_for()
    assert row.locator(".row-score").inner_text() == card_score.inner_text()

    page.keyboard.press("d")
    page.wait_for_selector("#call-panel[data-state=answered]")
    page.keyboard.press("h")
    page.wait_for_selector("#call-panel[data-state=ended]")
    page.keyboard.press("6")
    page.locator("textarea[name=note]").press("Control+Enter")
    page.wait_for_selector(".toast.success >> text=结果已保存")
    time.sleep(1.5)  # the dialer re-scores the leads of the last second together
    score = str(api_score(live_app, agent["username"], lead["id"]))
    expect(card_score).to_have_text(score)
    expect(row.locator(".row-score")).to_have_text(score)
    assert browsed.errors == []


def test_the_dashboard_and_the_big_screen_count_the_same_last_30_days(login_page):
    manager = login_page("manager")
    page = manager.page
    page.wait_for_selector("[data-testid=stage-new]")
    assert page.locator("select[name=period]").input_value() == "last_30_days"
    new, applied = (page.get_by_test_id(f"stage-{s}").inner_text() for s in ("new", "applied"))
    shown = page.get_by_test_id("period-shown").inner_text()
    assert " – " in shown

    manager.open("/bigscreen")
    page.get_by_test_id("bs-leads").wait_for()
    assert page.get_by_test_id("bs-leads").inner_text() == new
    assert page.get_by_test_id("bs-applied").inner_text() == applied
    assert manager.errors == []


def test_funnel_bars_are_as_wide_as_their_counts(login_page):
    manager = login_page("manager")
    page = manager.page
    page.wait_for_selector("[data-testid=stage-new]")
    bars = page.evaluate(FUNNEL_WIDTHS)
    first = bars[0]
    assert first["value"] > 0
    for bar in bars[1:]:
        share = bar["value"] / first["value"]
        # widths follow the counts (a stage of none keeps a 1% sliver)
        assert abs(bar["width"] / first["width"] - max(share, 0.01)) < 0.02, bars


def test_a_channels_cost_per_lead_set_in_admin_prices_its_roi(live_app, login_page):
    admin = login_page("sz_admin")  # the Shenzhen office prices its own channels
    page = admin.page
    admin.open("/admin/sources")
    row = page.locator("#sources-table tr", has_text="百度推广").first
    row.locator("input[type=number]").fill("25")
    row.locator("button").click()
    page.wait_for_selector(".toast.success")

    admin.open("/dashboard")
    channel = page.locator("#channel-table tbody tr", has_text="百度推广")
    channel.wait_for()
    cells = channel.locator("td").all_inner_texts()
    leads = int(cells[1])
    assert cells[2] == f"¥{leads * 25:,.2f}" and cells[3] == "¥25.00"
    assert cells[-1] not in ("—", "0.0%")  # a return is worked out against the cost
    assert admin.errors == []
