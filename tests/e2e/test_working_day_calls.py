"""The working day, calls and the console (issue 21): a call that survives a reload and a network
drop with its state and outcome draft, a call that really ended waiting in "needs an outcome",
the outcome key not typed into the note, the console's own state, buttons that act, no
"connected" banner after the end, the agent's figures against the target, presets and Save in
sight at 1366x768, and only a reached person making a new lead contacted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.working_day import agent_with_a_lead, ensure_caller_id, open_console
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e
OFFLINE = "ERR_INTERNET_DISCONNECTED"  # what Chromium logs while the network is down


@pytest.fixture(scope="module", autouse=True)
def caller_id(live_app: LiveServer) -> None:
    ensure_caller_id(live_app)


def controls(page) -> dict[str, bool]:
    """Which console controls can be pressed now."""
    ids = {"dial": "#dial", "hangup": "#hangup", "next": "#next-lead", "save": "#save-outcome"}
    return {name: page.locator(selector).is_enabled() for name, selector in ids.items()}


def calls_of(live: LiveServer, user: dict) -> list[dict]:
    return live.api("manager", "GET", "/calls", params={"agent_id": user["id"]}).json()["items"]


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def test_a_call_survives_a_reload_and_a_network_drop_and_its_outcome_draft_a_reload(
    live_app, login_page
):
    agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    page = browsed.page
    open_console(browsed, lead["id"])
    assert page.locator("#my-state").inner_text() == "空闲"
    assert controls(page) == {"dial": True, "hangup": False, "next": True, "save": False}

    page.keyboard.press("d")
    page.wait_for_selector("#call-panel[data-state=answered]")
    page.wait_for_selector("#screen-pop:not([hidden])")
    page.wait_for_selector("#my-state[data-state=on_call]")
    assert page.locator("#my-state").inner_text() == "通话中"  # not 空闲, as the wallboard says
    assert controls(page) == {"dial": False, "hangup": True, "next": False, "save": False}

    page.reload()  # F5 mid-call: the customer stays on the line
    page.wait_for_selector("#call-panel[data-state=answered]")
    page.wait_for_selector("#screen-pop:not([hidden])")
    assert page.locator("#my-state").inner_text() == "通话中"
    page.context.set_offline(True)  # the network drops for a moment
    page.wait_for_selector("#live-status[data-status=reconnecting]")
    assert controls(page)["hangup"] is False
    page.wait_for_timeout(1000)
    page.context.set_offline(False)
    page.wait_for_selector("#live-status[data-status=connected]", timeout=15_000)
    expect(page.locator("#hangup")).to_be_enabled()
    assert [c["state"] for c in calls_of(live_app, agent)] == ["answered"]

    page.keyboard.press("h")
    page.wait_for_selector("#call-panel[data-state=ended]")
    page.wait_for_selector("#my-state[data-state=wrap_up]")
    assert page.locator("#screen-pop").is_hidden()  # no 已接通 after 已结束
    assert controls(page) == {"dial": False, "hangup": False, "next": False, "save": True}
    page.keyboard.press("5")  # 约回电
    assert page.locator("textarea[name=note]").input_value() == ""  # the key is not typed
    page.keyboard.type("客户下午开会，明早再打")
    page.click("[data-presets] >> text=明天上午10点")
    assert page.locator("input[name=next_followup_at]").input_value().endswith("T10:00")
    assert in_viewport(page, "#save-outcome") and in_viewport(page, "[data-presets]")

    page.reload()  # the draft of the outcome comes back with the call waiting for it
    page.wait_for_selector("#call-panel[data-state=ended]")
    assert page.locator("textarea[name=note]").input_value() == "客户下午开会，明早再打"
    assert page.locator("input[name=disposition][value=callback]").is_checked()
    assert page.locator("input[name=next_followup_at]").input_value().endswith("T10:00")
    page.locator("textarea[name=note]").press("Control+Enter")
    page.wait_for_selector(".toast.success >> text=结果已保存")
    page.wait_for_selector("#my-state[data-state=available]")

    followup = page.locator("#timeline .event-followup").first
    followup.wait_for()
    assert "约回电 · 客户下午开会，明早再打" in followup.inner_text()
    assert page.locator("#lead-card .badge", has_text="已联系").count() == 1  # answered: contacted
    [call] = calls_of(live_app, agent)  # one call all along, through reload and drop
    assert (call["disposition"], call["end_reason"]) == ("callback", "agent_hangup")
    assert [e for e in browsed.errors if OFFLINE not in e] == []


def test_a_call_that_ended_while_the_console_was_away_waits_for_its_outcome(live_app, login_page):
    agent, lead, first = agent_with_a_lead(live_app, login_page)
    open_console(first, lead["id"])
    first.page.keyboard.press("d")
    first.page.wait_for_selector("#call-panel[data-state=answered]")
    first.page.context.close()  # the PC crashes: nothing comes back within the grace period
    deadline_call = live_app.wait_for_call(
        agent["username"], calls_of(live_app, agent)[0]["id"], lambda c: c["state"] == "ended"
    )
    assert deadline_call["end_reason"] == "console_lost"

    again = login_page(agent["username"])
    page = again.page
    open_console(again)
    page.wait_for_selector("#call-panel[data-state=ended]")  # in front of the agent at once
    assert page.locator("[data-list=awaiting] .count").inner_text() == "1"
    page.click("[data-list=awaiting]")
    page.locator(".work-row", has_text=lead["phone_masked"]).wait_for()
    assert page.locator("#save-outcome").is_enabled() and page.locator("#dial").is_disabled()
    page.keyboard.press("1")
    page.locator("textarea[name=note]").press("Control+Enter")
    page.wait_for_selector(".toast.success >> text=结果已保存")
    expect(page.locator("[data-list=awaiting] .count")).to_have_text("0")
    assert live_app.api(agent["username"], "GET", "/calls/awaiting-outcome").json()["total"] == 0
    assert again.errors == []


def test_the_console_shows_my_day_against_the_target_as_the_agents_report_counts_it(
    live_app, login_page
):
    agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    page = browsed.page
    open_console(browsed, lead["id"])
    page.wait_for_selector("#my-day:not([hidden])")
    assert page.get_by_test_id("my-calls").inner_text() == "0"
    assert "/120" in page.locator("[data-figure=calls]").inner_text()  # the org's target
    page.keyboard.press("d")
    page.wait_for_selector("#call-panel[data-state=answered]")
    page.wait_for_timeout(1200)
    page.keyboard.press("h")
    page.wait_for_selector("#call-panel[data-state=ended]")
    expect(page.get_by_test_id("my-calls")).to_have_text("1")
    report = live_app.api("manager", "GET", "/reports/agents", params={"period": "today"})
    [row] = [r for r in report.json()["agents"] if r["user_id"] == agent["id"]]
    assert page.get_by_test_id("my-connected").inner_text() == str(row["connected"]) == "1"
    shown = page.locator("#my-day").get_attribute("data-talk-seconds")
    assert shown == str(row["talk_seconds"]) and row["talk_seconds"] >= 1
    assert browsed.errors == []


def test_only_a_contact_that_reached_the_person_makes_a_new_lead_contacted(live_app, login_page):
    _agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    page = browsed.page
    browsed.open(f"/leads/{lead['id']}")
    form = page.locator("#followup-form")
    form.locator("select[name=channel]").select_option("sms")
    assert not form.locator("input[name=reached]").is_checked()  # a text message reaches nobody
    form.locator("textarea[name=content]").fill("发了短信，未回复")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".toast.success")
    page.locator("#followups li", has_text="发了短信").wait_for()
    assert page.locator("#lead-card .badge", has_text="新线索").count() == 1

    form.locator("select[name=channel]").select_option("wechat")
    assert form.locator("input[name=reached]").is_checked()
    form.locator("textarea[name=content]").fill("微信聊了，客户有意向")
    form.locator("button[type=submit]").click()
    page.locator("#lead-card .badge", has_text="已联系").wait_for()
    assert browsed.errors == []
