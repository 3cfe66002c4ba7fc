"""The working day, callbacks (issue 21): overdue, later-today and upcoming tabs with counts, a
callback saved for today counted at once, several promised follow-ups on one lead, and a later
follow-up on another channel that keeps every promised time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.working_day import agent_with_a_lead, ensure_caller_id, open_console
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def caller_id(live_app: LiveServer) -> None:
    ensure_caller_id(live_app)


def promise(live: LiveServer, username: str, lead_id: int, channel: str, due: datetime) -> None:
    body = {"channel": channel, "content": "约了时间", "next_followup_at": due.isoformat()}
    made = live.api(username, "POST", f"/leads/{lead_id}/followups", json=body)
    assert made.status_code == 201, made.text


def tab_counts(page) -> dict[str, str]:
    return {
        when: page.locator(f"[data-list={when}] .count").inner_text()
        for when in ("overdue", "today", "upcoming")
    }


def test_every_promised_callback_stays_listed_under_its_tab_with_counts(live_app, login_page):
    agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    name = agent["username"]
    now = datetime.now(UTC)
    # three promises on one lead: one about to fall due, one later today (it is about noon in
    # the org, tests.live_server.noon_settings), one the day after tomorrow
    promise(live_app, name, lead["id"], "call", now + timedelta(seconds=2))
    promise(live_app, name, lead["id"], "sms", now + timedelta(hours=1))
    promise(live_app, name, lead["id"], "sms", now + timedelta(days=2))
    time.sleep(2.5)

    page = browsed.page
    open_console(browsed, lead["id"])
    expect(page.locator("[data-list=upcoming] .count")).to_have_text("1")
    assert tab_counts(page) == {"overdue": "1", "today": "1", "upcoming": "1"}
    page.click("[data-list=overdue]")
    page.locator(".work-row", has_text=lead["phone_masked"]).wait_for()
    assert page.locator("[data-list=overdue]").get_attribute("class") == "alert"

    page.keyboard.press("d")
    page.wait_for_selector("#call-panel[data-state=answered]")
    page.keyboard.press("h")
    page.wait_for_selector("#call-panel[data-state=ended]")
    promises = page.locator("[data-promises] input")
    promises.first.wait_for()
    # the overdue one is kept by this answered call; the future ones stay promised
    assert [box.is_checked() for box in promises.all()] == [True, False, False]
    page.keyboard.press("5")
    page.click("[data-presets] >> text=1小时后")
    page.locator("textarea[name=note]").press("Control+Enter")
    page.wait_for_selector(".toast.success >> text=结果已保存")
    # the callback saved for today counts at once
    expect(page.locator("[data-list=today] .count")).to_have_text("2")
    assert tab_counts(page) == {"overdue": "0", "today": "2", "upcoming": "1"}

    # a WeChat message later, without a time: every promised time stays
    browsed.open(f"/leads/{lead['id']}")
    form = page.locator("#followup-form")
    form.locator("select[name=channel]").select_option("wechat")
    form.locator("[data-promises] input").first.wait_for()
    assert not any(box.is_checked() for box in form.locator("[data-promises] input").all())
    form.locator("textarea[name=content]").fill("微信发了材料清单")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".toast.success")
    counts = live_app.api(name, "GET", "/followups/scheduled/counts").json()
    assert counts == {"overdue": 0, "today": 2, "upcoming": 1}
    open_ = live_app.api(name, "GET", f"/leads/{lead['id']}/scheduled-followups").json()
    assert len(open_) == 3
    assert browsed.errors == []
