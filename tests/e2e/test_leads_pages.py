"""The lead list and detail pages as managers, agents and partner users see them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

MASKED = re.compile(r"^1\d{2}\*{4}\d{4}$")
FULL_MOBILE = re.compile(r"1\d{10}")


def rows(browsed):
    return browsed.page.locator("#lead-table tbody tr[data-lead-id]")


def apply_filters(browsed) -> None:
    """Submits the filter form and waits until the table shows the answer."""
    with browsed.page.expect_response(lambda r: "/api/v1/leads?" in r.url):
        browsed.page.click("#lead-filters button[type=submit]")
    browsed.page.wait_for_function("!document.querySelector('#lead-table tbody').ariaBusy")


def test_manager_sees_masked_phones_and_never_a_full_number(login_page):
    browsed = login_page("manager")
    browsed.open("/leads")
    phones = browsed.page.locator("#lead-table [data-testid=lead-phone]").all_inner_texts()
    assert len(phones) == 50
    assert all(MASKED.match(phone) for phone in phones)
    assert not FULL_MOBILE.search(browsed.page.locator("main").inner_text())
    assert "条线索" in browsed.page.locator("[data-testid=lead-total]").inner_text()
    browsed.screenshot("leads-list")


def test_filters_narrow_the_list_and_stay_in_the_url(login_page):
    browsed = login_page("manager")
    browsed.open("/leads")
    browsed.page.select_option("select[name=pool]", "public")
    browsed.page.fill("input[name=city]", "北京")
    apply_filters(browsed)
    assert "pool=public" in browsed.page.url and "city=" in browsed.page.url
    owners = rows(browsed).locator("td:nth-child(8)").all_inner_texts()
    cities = rows(browsed).locator("td:nth-child(4)").all_inner_texts()
    assert owners and set(owners) == {"公海"} and set(cities) == {"北京"}
    browsed.page.reload()
    browsed.page.wait_for_load_state("networkidle")
    assert browsed.page.input_value("input[name=city]") == "北京"


def test_search_by_full_phone_finds_the_one_lead(login_page, live_app):
    lead = live_app.api("manager", "GET", "/leads", params={"per_page": 1}).json()["items"][0]
    phone = live_app.revealed_phone(lead["id"])
    browsed = login_page("manager")
    browsed.open("/leads")
    browsed.page.fill("input[name=q]", phone)
    apply_filters(browsed)
    expect(rows(browsed)).to_have_count(1)
    assert rows(browsed).locator("[data-testid=lead-phone]").inner_text() == lead["phone_masked"]


def test_reveal_asks_a_purpose_shows_the_number_and_is_audited(login_page, live_app):
    lead = live_app.api("manager", "GET", "/leads", params={"per_page": 1}).json()["items"][0]
    browsed = login_page("manager")
    browsed.open(f"/leads/{lead['id']}")
    assert browsed.page.locator("[data-testid=lead-phone]").inner_text() == lead["phone_masked"]
    browsed.page.click("#reveal-open")
    browsed.page.fill("#reveal-form textarea[name=purpose]", "客户来电核实身份")
    browsed.page.click("#reveal-form button[type=submit]")
    plain = browsed.page.locator("[data-testid=revealed-phone]").inner_text()
    assert re.fullmatch(r"1\d{10}", plain) and plain[-4:] == lead["phone_masked"][-4:]
    browsed.screenshot("lead-revealed")

    browsed.open("/admin/audit")
    browsed.page.fill("input[name=lead_id]", str(lead["id"]))
    browsed.page.click("#audit-filters button[type=submit]")
    browsed.page.wait_for_load_state("networkidle")
    audit = browsed.page.locator("#audit-table tbody").inner_text()
    assert "客户来电核实身份" in audit and "王经理" in audit and "手机号" in audit


def test_agent_adds_a_follow_up_and_sees_it_on_the_lead(login_page, live_app):
    lead = live_app.claim_lead("agent_bj2")
    browsed = login_page("agent_bj2")
    browsed.open(f"/leads/{lead['id']}")
    assert browsed.page.locator("#reveal-open").count() == 0  # agents lack pii:reveal
    browsed.page.select_option("#followup-form select[name=channel]", "wechat")
    browsed.page.fill("#followup-form textarea[name=content]", "加了微信，周五发资料")
    browsed.page.click("#followup-form button[type=submit]")
    followups = browsed.page.locator("#followups")
    followups.get_by_text("加了微信，周五发资料").wait_for()
    assert "微信" in followups.inner_text()
    assert "跟进" in browsed.page.locator("#timeline").inner_text()


def test_manager_edits_a_lead(login_page, live_app):
    lead = live_app.api("manager", "GET", "/leads", params={"per_page": 1}).json()["items"][0]
    browsed = login_page("manager")
    browsed.open(f"/leads/{lead['id']}")
    browsed.page.fill("#edit-form input[name=purpose]", "开店周转")
    browsed.page.select_option("#edit-form select[name='q.house']", "owned")
    browsed.page.click("#edit-form button[type=submit]")
    browsed.page.locator("#lead-card").get_by_text("开店周转").wait_for()
    after = live_app.api("manager", "GET", f"/leads/{lead['id']}").json()
    assert after["purpose"] == "开店周转" and after["qualifications"]["house"] == "owned"


def test_manager_assigns_selected_leads_to_an_agent(login_page, live_app):
    agent_id = live_app.api("agent_bj1", "GET", "/me").json()["id"]
    browsed = login_page("manager")
    browsed.open("/leads?pool=public&city=北京")
    picked = [int(rows(browsed).nth(n).get_attribute("data-lead-id")) for n in (0, 1)]
    for n in (0, 1):
        rows(browsed).nth(n).locator("input[type=checkbox]").check()
    assert browsed.page.locator("[data-testid=selected-count]").inner_text() == "已选 2 条"
    browsed.page.select_option("#assign-to", label="张小明")
    browsed.page.click("#assign-selected")
    browsed.page.get_by_text("已分配 2 条，跳过 0 条").wait_for()
    for lead_id in picked:
        assert live_app.api("manager", "GET", f"/leads/{lead_id}").json()["owner_id"] == agent_id
        assert browsed.page.locator(f"tr[data-lead-id='{lead_id}']").count() == 0


def test_partner_agent_sees_only_partner_leads(login_page, live_app):
    hq_lead = live_app.api("agent_bj1", "GET", "/leads", params={"per_page": 1}).json()["items"][0]
    partner_total = live_app.api("sz_agent1", "GET", "/leads").json()["total"]
    browsed = login_page("sz_agent1")
    assert browsed.page.locator("[data-testid=org-name]").inner_text() == "深圳城市合伙人"
    browsed.open("/leads")
    total = browsed.page.locator("[data-testid=lead-total]").inner_text()
    assert total == f"共 {partner_total} 条线索"
    cities = set(rows(browsed).locator("td:nth-child(3)").all_inner_texts())
    assert cities <= {"深圳", ""}
    browsed.open(f"/leads/{hq_lead['id']}")
    assert browsed.page.locator("#lead-error").inner_text() == "未找到，或不属于您的机构。"


def test_import_shows_progress_and_the_new_leads_arrive(login_page, tmp_path):
    sheet = tmp_path / "新线索.csv"
    sheet.write_text(
        "姓名,手机号,城市\n钱多多,13700001111,北京\n孙富贵,13700002222,上海\n坏号码,abc,北京\n"
    )
    browsed = login_page("manager")
    browsed.open("/leads")
    browsed.page.set_input_files("#import-form input[type=file]", str(sheet))
    browsed.page.fill("#import-form input[name=source]", "展会名单")
    browsed.page.click("#import-form button[type=submit]")
    browsed.page.get_by_text("导入 2 条，重复 0 条，无效 1 条").wait_for()
    assert browsed.page.locator("#import-progress progress").get_attribute("value") == "1"
    browsed.page.fill("#lead-filters input[name=source]", "展会名单")
    apply_filters(browsed)
    expect(rows(browsed)).to_have_count(2)


def test_export_downloads_the_filtered_list_masked(login_page):
    browsed = login_page("manager")
    browsed.open("/leads?city=北京")
    with browsed.page.expect_download() as download:
        browsed.page.click("#export-csv")
    content = download.value.path().read_text(encoding="utf-8-sig")
    lines = content.strip().splitlines()
    assert len(lines) > 1 and all("北京" in line for line in lines[1:])
    assert re.search(r"1\d{2}\*{4}\d{4}", content) and not FULL_MOBILE.search(content)


def test_clicking_a_column_header_sorts_by_it_both_ways(login_page):
    browsed = login_page("manager")
    browsed.open("/leads")
    created = rows(browsed).locator("td:nth-child(9)")
    newest_first = created.all_inner_texts()
    assert newest_first == sorted(newest_first, reverse=True)
    with browsed.page.expect_response(lambda r: "/api/v1/leads?" in r.url):
        browsed.page.click("button.sort[data-sort=created_at]")
    expect(browsed.page.locator("th[aria-sort=ascending]")).to_have_text("创建时间")
    oldest_first = created.all_inner_texts()
    assert oldest_first == sorted(oldest_first) and oldest_first[0] <= newest_first[-1]
    assert "sort=created_at" in browsed.page.url


def test_manager_releases_a_selected_lead_to_the_public_pool(login_page, live_app):
    lead = live_app.claim_lead("agent_bj2")
    browsed = login_page("manager")
    browsed.open(f"/leads?q={live_app.revealed_phone(lead['id'])}")
    expect(rows(browsed)).to_have_count(1)
    assert rows(browsed).locator("td:nth-child(8)").inner_text() == "赵丽"
    rows(browsed).locator("input[type=checkbox]").check()
    browsed.page.click("#release-selected")
    browsed.page.get_by_text("已释放到公海").wait_for()
    expect(rows(browsed).locator("td:nth-child(8)")).to_have_text("公海")
    assert live_app.api("manager", "GET", f"/leads/{lead['id']}").json()["pool"] == "public"
