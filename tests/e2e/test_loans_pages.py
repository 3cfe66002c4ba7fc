"""The loans pages in a real browser: matching on the lead page and the console, one lead walked
from an application to a repaid installment by the agent, the reviewer and the admin, and the
products admin with its APR flag and cap."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.loan_helpers import PNG

pytestmark = pytest.mark.e2e

# a salaried Beijing customer with social security and a clean credit report, but no house, car
# or insurance policy: 招行闪电贷 and 马上贷 fit (the age is to be confirmed: no ID number), the
# demo's other products do not
WISH = {
    "amount_wanted": "80000.00",
    "term_months": 24,
    "qualifications": {
        "monthly_income": "12000",
        "employment": "salaried",
        "social_security": True,
        "social_security_months": 24,
        "provident_fund": True,
        "house": "none",
        "car": "none",
        "insurance_policy": False,
        "credit_status": "good",
        "credit_queries_3m": 1,
    },
}


@pytest.fixture
def bj_lead(live_app) -> dict:
    """A Beijing lead of agent_bj1 with the qualifications above."""
    lead = live_app.claim_lead("agent_bj1", city="北京")
    changed = live_app.api("agent_bj1", "PATCH", f"/leads/{lead['id']}", json=WISH)
    assert changed.status_code == 200, changed.text
    return changed.json()


def match(page, kind: str, name: str):
    return page.get_by_test_id(f"{kind}-product").filter(has_text=name)


def status_of(page):
    return page.get_by_test_id("application-status")


def test_one_lead_walks_from_matching_to_a_repaid_installment(login_page, bj_lead):
    agent = login_page("agent_bj1")
    page = agent.page
    agent.open(f"/leads/{bj_lead['id']}")
    expect(match(page, "excluded", "招行房抵经营贷")).to_contain_text(
        "需有房产（全款或按揭均可），客户无房产"
    )
    best = page.get_by_test_id("eligible-product").first
    expect(best).to_contain_text("招行闪电贷")
    expect(best).to_contain_text("年龄需在 22–55 岁之间，请向客户确认")
    best.get_by_role("button", name="申请").click()
    form = page.locator("#apply-form")
    expect(form.locator("input[name=amount]")).to_have_value("80000.00")
    expect(form.locator("input[name=term_months]")).to_have_value("24")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    path = urlsplit(page.url).path
    application_id = int(re.fullmatch(r"/applications/(\d+)", path).group(1))
    expect(status_of(page)).to_have_text("草稿")
    expect(page.get_by_test_id("application-apr")).to_contain_text("%")

    page.set_input_files(
        "#upload-form input[type=file]",
        files=[{"name": "身份证.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.click("#upload-form button[type=submit]")
    expect(page.get_by_test_id("document")).to_contain_text("身份证.png")
    page.click("[data-action=submit]")
    expect(status_of(page)).to_have_text("待审核")

    reviewer = login_page("reviewer")  # a reviewer starts at their queue
    queue = reviewer.page
    assert urlsplit(queue.url).path == "/applications"
    row = queue.locator(f"tr[data-application-id='{application_id}']")
    expect(row.get_by_test_id("waiting")).to_contain_text("分")
    with queue.expect_navigation():
        row.get_by_role("link", name=f"#{application_id}").click()
    queue.click("[data-action=approve]")
    queue.fill("#note-form textarea[name=note]", "资料齐全，同意")
    queue.click("#note-form button[type=submit]")
    expect(status_of(queue)).to_have_text("已审批")

    agent.open(path)
    expect(page.get_by_test_id("decision-note")).to_have_text("审核意见：资料齐全，同意")
    page.click("[data-action=contract]")
    pdf = page.get_by_test_id("contract-pdf")
    expect(pdf).to_be_visible()
    answer = page.request.get(pdf.get_attribute("href"))
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF")
    page.click("#sign-form button[type=submit]")
    expect(status_of(page)).to_have_text("已签约")
    agent.screenshot("loan-application")

    admin = login_page("admin")
    admin.open(path)
    expect(admin.page.locator("#disburse-form input[name=amount]")).to_have_value("80000.00")
    with admin.page.expect_navigation():
        admin.page.click("#disburse-form button[type=submit]")
    loan = admin.page
    first = loan.locator("#installments-table tr[data-n='1']")
    expect(first.get_by_test_id("installment-status")).to_have_text("待还")
    loan.click("#repayment-form button[type=submit]")  # prefilled: installment 1 in full
    expect(first.get_by_test_id("installment-status")).to_have_text("已还")
    expect(loan.locator("#repayments-table")).to_contain_text("第 1 期")
    for browsed in (agent, reviewer, admin):
        assert browsed.errors == [] and browsed.csp_violations == []

    loan.fill("#repayment-form input[name=amount]", "999999.00")
    loan.click("#repayment-form button[type=submit]")  # the browser logs the 422 it answers
    expect(loan.locator("#repayment-error")).to_contain_text("还款金额超过该笔贷款剩余应还的")
    admin.screenshot("loan")


def test_products_are_flagged_above_24_percent_and_refused_above_the_cap(login_page):
    admin = login_page("admin")
    page = admin.page
    admin.open("/loans/products")
    dear = page.locator("#products-table tbody tr", has_text="速易贷")
    expect(dear.get_by_test_id("product-apr")).to_have_text("27.64% ⚠")
    cheap = page.locator("#products-table tbody tr", has_text="招行闪电贷")
    expect(cheap.get_by_test_id("product-apr")).to_have_text("12.00%")
    admin.screenshot("loan-products")

    page.click("#new-product")
    form = page.locator("#product-form")
    form.locator("select[name=lender_id]").select_option(label="中安小额贷款")
    for name, value in {
        "name": "高息贷",
        "min_amount": "5000",
        "max_amount": "50000",
        "channel_fee_rate": "3",
        "min_term_months": "6",
        "max_term_months": "12",
        "apr_min": "30",
        "apr_max": "40",
    }.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    expect(page.locator("#product-error")).to_have_text(
        "综合年化成本 40.00% 超过法定上限 36%，不予通过。"
    )
    # the browser logs the refusal's 422; no script failed
    assert [e for e in admin.errors if not e.startswith("Failed to load resource")] == []


def test_english_shows_the_reasons_in_english_and_the_console_sums_up(login_page, bj_lead):
    agent = login_page("agent_bj1")
    page = agent.page
    page.click("[data-list=mine]")
    page.locator(".work-row", has_text=bj_lead["phone_masked"]).locator(".row-open").click()
    summary = page.locator("#match-summary")
    expect(summary.get_by_test_id("match-chip").first).to_contain_text("招行闪电贷")
    expect(summary.get_by_test_id("excluded-count")).to_have_text("4 个不符合")

    agent.open(f"/leads/{bj_lead['id']}")
    with page.expect_navigation():
        page.click("text=English")
    page.wait_for_load_state("networkidle")
    expect(match(page, "excluded", "招行房抵经营贷")).to_contain_text(
        "Requires a house, owned or mortgaged; the customer has none"
    )
    expect(match(page, "eligible", "招行闪电贷")).to_contain_text("ask the customer")
    assert agent.errors == []
