"""The working day, words (issue 21): API refusals in Chinese on Chinese pages, score factors in
English on English pages, audit actions and fields and permissions in words, the org settings
as a readable form, an export for people (words, owners' names, the org's clock), and the
smaller things: a missing lead shows no forms, the import says which source wins, the lead page
dials and moves the stage, and its timeline says who changed which field."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.working_day import agent_with_a_lead, ensure_caller_id

pytestmark = pytest.mark.e2e


def test_an_api_refusal_reaches_a_chinese_page_in_chinese(live_app, login_page):
    _agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    page = browsed.page
    browsed.open(f"/leads/{lead['id']}")
    form = page.locator("#followup-form")
    form.locator("textarea[name=content]").fill("约了去年的时间")
    form.locator("input[name=next_followup_at]").fill("2020-01-01T10:00")
    form.locator("button[type=submit]").click()
    expect(page.locator("#followup-error")).to_have_text("下次跟进时间必须晚于现在，且在一年以内。")


def test_score_factors_read_in_english_on_english_pages(live_app, login_page):
    _agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    browsed.page.context.add_cookies([{"name": "lang", "value": "en", "url": live_app.base}])
    browsed.open(f"/leads/{lead['id']}")
    chips = browsed.page.locator("#lead-card .score-factors li")
    chips.first.wait_for()
    text = " ".join(chips.all_inner_texts())
    assert "Amount against income" in text or "Qualifications" in text
    assert not re.search(r"[\u4e00-\u9fff]", text)  # no Chinese left in them


def test_audit_actions_fields_and_permissions_read_as_words(live_app, login_page):
    lead = live_app.claim_lead("agent_bj1")
    live_app.revealed_phone(lead["id"])  # the manager reveals the number: audited
    admin = login_page("manager")
    page = admin.page
    admin.open("/admin/audit")
    first = page.locator("#audit-table tbody tr").first
    first.wait_for()
    cells = first.locator("td").all_inner_texts()
    assert cells[2] == "查看了个人信息" and cells[4] == "手机号"
    admin.open("/admin/roles")
    row = page.locator("#roles-table tr", has_text="pii:reveal")
    assert "查看完整个人信息" in row.inner_text()
    assert admin.errors == []


def test_the_org_settings_are_a_form_a_manager_can_read(live_app, login_page):
    admin = login_page("manager")
    page = admin.page
    admin.open("/admin/settings")
    page.locator("input[name=calling_hours_start]").wait_for()
    labels = page.locator(".settings-section legend").all_inner_texts()
    assert {"外呼", "线索池", "坐席每日目标", "线索评分"} <= set(labels)
    start, end = (page.locator(f"input[name=calling_hours_{x}]") for x in ("start", "end"))
    assert start.get_attribute("type") == "time"
    assert start.bounding_box()["y"] < end.bounding_box()["y"]  # start before end
    weight = page.locator("input[name='scoring.weights.phone']")
    assert weight.bounding_box()["width"] >= 80
    assert page.locator("select[name='scoring.conversion_stage'] option:checked").inner_text() == (
        "已进件"
    )
    assert page.locator("input[name='scoring.best_age.0']").input_value() == "25"
    assert "[25,45]" not in page.locator("#settings-form").inner_text()

    page.fill("input[name='agent_daily_targets.calls']", "150")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector(".toast.success")
    org_id = live_app.api("manager", "GET", "/me").json()["org_id"]
    saved = live_app.api("manager", "GET", f"/orgs/{org_id}/settings").json()
    assert saved["agent_daily_targets"]["calls"] == 150
    assert saved["calling_hours_start"] < saved["calling_hours_end"]  # nothing else moved
    live_app.api(
        "manager", "PATCH", f"/orgs/{org_id}/settings", json={"agent_daily_targets": {"calls": 120}}
    )
    assert admin.errors == []


def test_an_export_uses_the_pages_words_owners_names_and_the_orgs_clock(live_app, login_page):
    live_app.claim_lead("agent_bj1")
    browsed = login_page("manager")
    browsed.open("/leads?pool=all&sort=-last_followup_at")
    with browsed.page.expect_download() as download:
        browsed.page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    assert {"阶段", "负责人", "创建时间", "最近跟进", "下次跟进"} <= set(rows[0])
    words = {"新线索", "已联系", "已筛选", "已进件", "已审批", "已放款", "已流失", "已拒绝"}
    assert {row["阶段"] for row in rows} <= words  # no stage codes
    owners = {row["负责人"] for row in rows}
    assert "公海" in owners and "张小明" in owners and not any(o.isdigit() for o in owners)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row["创建时间"]) for row in rows)
    zone = ZoneInfo(live_app.api("manager", "GET", "/me").json()["org_timezone"])
    stamp = datetime.now(UTC).astimezone(zone).strftime("%Y%m%d-%H")
    assert download.value.suggested_filename.startswith(f"leads-{stamp}")


def test_a_missing_lead_shows_the_error_and_no_forms(login_page):
    browsed = login_page("manager")
    browsed.open("/leads/987654321")
    expect(browsed.page.locator("#lead-error")).to_have_text("未找到，或不属于您的机构。")
    for part in ("#lead-body", "#stage-form", "#dial-lead", "#reveal-open"):
        assert browsed.page.locator(part).is_hidden(), part


def test_the_import_says_the_files_source_column_wins(login_page):
    browsed = login_page("manager")
    browsed.open("/leads")
    source = browsed.page.locator("#import-form input[name=source]")
    assert source.get_attribute("required") is None
    assert "渠道来源" in source.get_attribute("title")


def test_the_lead_page_dials_moves_the_stage_and_names_who_changed_what(live_app, login_page):
    ensure_caller_id(live_app)
    agent, lead, browsed = agent_with_a_lead(live_app, login_page)
    page = browsed.page
    browsed.open(f"/leads/{lead['id']}")
    page.fill("#edit-form input[name=city]", "北京")
    page.click("#edit-form button[type=submit]")
    edited = page.locator("#timeline .event-updated").first
    edited.wait_for()
    assert agent["display_name"] in edited.inner_text() and "城市" in edited.inner_text()

    stage = page.locator("#stage-form")
    stage.locator("select[name=stage]").select_option("contacted")
    stage.locator("button[type=submit]").click()
    page.locator("#lead-card .badge", has_text="已联系").wait_for()

    with page.expect_navigation():
        page.click("#dial-lead")  # the console opens on the lead and dials it once
    page.wait_for_selector("#call-panel[data-state=answered]")
    assert page.url.endswith("/console")  # a reload does not dial again
    page.keyboard.press("h")
    page.wait_for_selector("#call-panel[data-state=ended]")
    assert browsed.errors == []
