"""The loan book report counted by hand (balances, overdue, M1–M3+ by age, as of a day, per
lender, product or org, partners seeing their own org), and the disbursed amounts of the agent and
channel reports, read from the loans."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from tests.loan_rows import Due, cancel, make_lender, make_loan, pay_later

pytestmark = pytest.mark.integration

AS_OF = "2026-11-30"
LENDERS = ("招商银行", "微众银行")
ZERO = D("0.00")


def report(client, headers, name, **params):
    response = client.get(f"/api/v1/reports/{name}", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def figures(group):
    names = ("loans", "active_loans", "disbursed_amount", "balance", "overdue_principal")
    names += ("overdue_rate", "m1", "m2", "m3", "m3_plus")
    return {name: group[name] for name in names}


@pytest.fixture
def book(make):
    """HQ lends through 招商银行 and 微众银行, a partner through its own 平安普惠. Ages are at
    2026-11-30, Beijing time."""
    hq, partner = make.org("hq"), make.org("partner")
    _, cmb = make_lender(hq, "招商银行")
    _, webank = make_lender(hq, "微众银行")
    _, pingan = make_lender(partner, "平安普惠")

    def loan(org, product, schedule, **kw):
        return make_loan(make.lead(org), product, schedule, **kw)

    # 招商银行: one M1 loan (oldest unpaid 20 days past due; the one before it was paid on
    # 2026-11-05), one M3+ (107 days) with a part-paid installment, one M2 (41 days)
    thousands = [Due(date(2026, month, 10), D(1000)) for month in (10, 11, 12)]
    m1_loan, m1_rows = loan(hq, cmb, thousands)
    pay_later(m1_loan, m1_rows[0], D(1000), datetime(2026, 11, 5, 3, tzinfo=UTC))
    loan(
        hq,
        cmb,
        [
            Due(date(2026, 8, 15), D(2000)),
            Due(date(2026, 9, 15), D(2000), paid=D(500)),
            Due(date(2026, 10, 15), D(2000)),
        ],
    )
    loan(hq, cmb, [Due(date(2026, 10, 20), D(2000))])
    # 微众银行: one not yet due (with cents), one repaid, one disbursed at 23:59 on the day
    # and one a second later, on the next day: out of the book
    loan(hq, webank, [Due(date(2026, 12, 5), D("5000.05")), Due(date(2027, 1, 5), D("5000.05"))])
    loan(hq, webank, [Due(date(2026, month, 1), D(2000), paid=D(2000)) for month in (5, 6)])
    last_minute = datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)
    loan(hq, webank, [Due(date(2026, 12, 30), D(1000))], disbursed_at=last_minute)
    next_day = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    loan(hq, webank, [Due(date(2026, 12, 30), D(9999))], disbursed_at=next_day)
    # and one reversed on 11-20: in the book of 10-31, not in that of 11-30
    reversed_loan, _ = loan(hq, webank, [Due(date(2026, 10, 1), D(3000))])
    cancel(reversed_loan, datetime(2026, 11, 20, 2, tzinfo=UTC))
    # the partner's: 66 days past due, M3
    loan(partner, pingan, [Due(date(2026, 9, 25), D(4000)), Due(date(2026, 10, 25), D(4000))])
    return hq, partner


CMB = {
    "loans": 3,
    "active_loans": 3,
    "disbursed_amount": "11000.00",  # 3,000 + 6,000 + 2,000
    "balance": "9500.00",  # 2,000 + (2,000 + 1,500 + 2,000) + 2,000
    "overdue_principal": "8500.00",  # 1,000 + 5,500 + 2,000
    "overdue_rate": "0.8947",  # 8,500 / 9,500
    "m1": "2000.00",  # the 20-day loan's whole balance
    "m2": "2000.00",
    "m3": "0.00",
    "m3_plus": "5500.00",
}
WEBANK = {
    "loans": 3,
    "active_loans": 2,
    "disbursed_amount": "15000.10",  # 10,000.10 + 4,000 + 1,000
    "balance": "11000.10",
    "overdue_principal": "0.00",
    "overdue_rate": "0.0000",
    "m1": "0.00",
    "m2": "0.00",
    "m3": "0.00",
    "m3_plus": "0.00",
}
PINGAN = {
    "loans": 1,
    "active_loans": 1,
    "disbursed_amount": "8000.00",
    "balance": "8000.00",
    "overdue_principal": "8000.00",
    "overdue_rate": "1.0000",
    "m1": "0.00",
    "m2": "0.00",
    "m3": "8000.00",
    "m3_plus": "0.00",
}


def test_the_loan_book_per_lender_as_counted_by_hand(client, auth, book):
    hq, _ = book
    body = report(client, auth.login("manager", org=hq), "loan-book", as_of=AS_OF)

    assert (body["as_of"], body["timezone"], body["group_by"]) == (
        AS_OF,
        "Asia/Shanghai",
        "lender",
    )
    assert [(g["label"], figures(g)) for g in body["groups"]] == [
        ("微众银行", WEBANK),  # the biggest balance first
        ("招商银行", CMB),
        ("平安普惠", PINGAN),
    ]
    assert figures(body["total"]) == {
        "loans": 7,
        "active_loans": 6,
        "disbursed_amount": "34000.10",
        "balance": "28500.10",
        "overdue_principal": "16500.00",
        "overdue_rate": "0.5789",  # 16,500 / 28,500.10
        "m1": "2000.00",
        "m2": "2000.00",
        "m3": "8000.00",
        "m3_plus": "5500.00",
    }
    assert (body["total"]["key"], body["total"]["label"]) == (None, None)


def test_a_partner_sees_only_its_own_org_in_the_loan_book(client, auth, book):
    hq, partner = book
    partner_admin = auth.login("partner_admin", org=partner)
    by_lender = report(client, partner_admin, "loan-book", as_of=AS_OF)
    by_org = report(client, partner_admin, "loan-book", as_of=AS_OF, group_by="org")
    hq_by_org = report(
        client, auth.login("manager", org=hq), "loan-book", as_of=AS_OF, group_by="org"
    )

    assert [(g["label"], figures(g)) for g in by_lender["groups"]] == [("平安普惠", PINGAN)]
    assert figures(by_lender["total"]) == PINGAN
    assert [(g["key"], g["label"]) for g in by_org["groups"]] == [(partner.id, partner.name)]
    assert [g["key"] for g in hq_by_org["groups"]] == [hq.id, partner.id]
    assert hq_by_org["groups"][0]["balance"] == "20500.10"  # 9,500 + 11,000.10


def test_the_book_as_of_an_earlier_day_takes_back_what_was_paid_after_it(client, auth, book):
    hq, _ = book
    body = report(client, auth.login("manager", org=hq), "loan-book", as_of="2026-10-31")
    cmb, webank = (next(g for g in body["groups"] if g["label"] == name) for name in LENDERS)

    # on 10-31 the first 1,000 of the M1 loan (paid 11-05) was still owed, 21 days past due;
    # the part-paid loan's oldest installment was 77 days past due (M3), the 2,000 one 11 (M1)
    assert figures(cmb) == {
        **CMB,
        "balance": "10500.00",
        "overdue_rate": "0.8095",  # 8,500 / 10,500
        "m1": "5000.00",
        "m2": "0.00",
        "m3": "5500.00",
        "m3_plus": "0.00",
    }
    # the loan cancelled on 11-20 was still in the book, 30 days past due (M1); the two
    # disbursed on 11-30 were not yet
    assert {k: webank[k] for k in ("loans", "disbursed_amount", "balance", "m1")} == {
        "loans": 3,
        "disbursed_amount": "17000.10",
        "balance": "13000.10",
        "m1": "3000.00",
    }


def test_the_loan_book_groups_by_product_and_needs_the_reports_permission(client, auth, book):
    hq, _ = book
    body = report(
        client, auth.login("finance", org=hq), "loan-book", as_of=AS_OF, group_by="product"
    )
    assert [g["label"] for g in body["groups"]] == [
        "微众银行工薪贷",
        "招商银行工薪贷",
        "平安普惠工薪贷",
    ]
    agent = auth.login("agent", org=hq)
    refused = client.get("/api/v1/reports/loan-book", headers=agent)
    assert refused.status_code == 403
    bad = client.get(
        "/api/v1/reports/loan-book",
        query_string={"group_by": "city"},
        headers=auth.login("manager", org=hq),
    )
    assert bad.json["error"]["code"] == "validation_error"


def test_agents_and_channels_report_the_loans_disbursed(client, auth, make):
    org = make.org()
    seller = make.user("agent", org=org, display_name="张小明")
    _, product = make_lender(org)
    october = datetime(2026, 10, 15, 4, tzinfo=UTC)
    period = {"from": "2026-10-01", "to": "2026-11-01"}
    sold = [
        (make.lead(org, source="百度", created_at=october), D("30000.00"), october),
        (make.lead(org, source="百度", created_at=october), D("20000.55"), october),
        # sold in September: not the agent's October; its lead is not October's either
        (make.lead(org, source="百度"), D("7777.00"), datetime(2026, 9, 20, tzinfo=UTC)),
    ]
    for lead, amount, at in sold:
        make_loan(lead, product, [Due(date(2027, 1, 1), amount)], agent=seller, disbursed_at=at)
    reversed_lead = make.lead(org, source="百度", created_at=october)
    reversed_loan, _ = make_loan(
        reversed_lead, product, [Due(date(2027, 1, 1), D(5000))], agent=seller, disbursed_at=october
    )
    cancel(reversed_loan, october)
    make.lead(org, source="抖音", created_at=october)
    manager = auth.login("manager", org=org)

    agents = {a["display_name"]: a for a in report(client, manager, "agents", **period)["agents"]}
    channels = {c["source"]: c for c in report(client, manager, "channels", **period)["channels"]}

    assert agents["张小明"]["disbursed_amount"] == "50000.55"
    assert {k: channels["百度"][k] for k in ("leads", "disbursed", "disbursed_amount")} == {
        "leads": 3,  # the cancelled loan's lead is still a lead
        "disbursed": 2,
        "disbursed_amount": "50000.55",
    }
    assert (channels["抖音"]["disbursed"], channels["抖音"]["disbursed_amount"]) == (0, "0.00")
