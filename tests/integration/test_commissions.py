"""Commission settlement through the API on a month worked out by hand: three agents in two
teams (one in a partner office), a tier crossed mid-month under both tier modes, a clawback of a
loan from the month before; re-runs, plan changes, who may read and approve what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.commissions import service
from crm.commissions.models import Settlement, Statement, StatementLine
from crm.commissions.schemas import NewAdjustment, NewSettlement
from crm.commissions.settlement import settle as run_settlement
from crm.extensions import db
from crm.loans.models import Installment, Loan
from crm.orgs.models import User
from tests.loan_rows import Due, make_lender, make_loan

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=SHANGHAI)


def plan(tier_mode: str = "whole", effective_from: str = "2026-10-01", **overrides) -> dict:
    share = {"agent": "0.10", "team_lead": "0.05", "org": "0.30"}
    return {
        "name": f"标准方案 {tier_mode}",
        "effective_from": effective_from,
        "service_fee_split": share,
        "channel_fee_split": share,
        "tiers": [
            {"min_volume": "0", "agent_rate": "0.10"},
            {"min_volume": "100000", "agent_rate": "0.20"},
        ],
        "tier_mode": tier_mode,
        "clawback_days": 90,
        "clawback_overdue_days": 30,
        **overrides,
    }


@dataclass
class World:
    finance: dict
    a1: object
    a2: object
    a3: object
    l1: object
    l2: object
    partner: object
    hq: object
    october_loan: Loan


def loan(make, org, product, agent, team, amount, service, channel, when) -> Loan:
    lead = make.lead(org=org, owner=agent, source="百度", created_at=when.replace(day=1))
    row, _ = make_loan(lead, product, [Due(date(2027, 1, 1), Decimal(amount))], agent=agent)
    with db.unit_of_work(SYSTEM) as session:
        session.execute(
            update(Loan)
            .where(Loan.id == row.id)
            .values(
                service_fee=Decimal(service),
                channel_fee=Decimal(channel),
                disbursed_at=when,
                team_id=team.id,
                team_lead_id=team.lead_user_id,
            )
        )
    return row


@pytest.fixture
def world(make, auth) -> World:
    hq, partner = make.org("hq"), make.org("partner")
    l1 = make.user("team_lead", org=hq)
    l2 = make.user("team_lead", org=partner)
    a1, a2 = make.user("agent", org=hq), make.user("agent", org=hq)
    a3 = make.user("partner_agent", org=partner)
    hq_team = make.team(org=hq, name="北京一组", lead_user_id=l1.id)
    sz_team = make.team(org=partner, name="深圳一组", lead_user_id=l2.id)
    _, hq_product = make_lender(hq)
    _, partner_product = make_lender(partner, "深圳农商行")
    loan(make, hq, hq_product, a1, hq_team, "60000", "1200", "600", at(3))
    loan(make, hq, hq_product, a1, hq_team, "80000", "1600", "800", at(20))
    loan(make, hq, hq_product, a2, hq_team, "50000", "1000", "500", at(10))
    loan(make, partner, partner_product, a3, sz_team, "30000", "900", "300", at(15))
    october = loan(make, hq, hq_product, a2, hq_team, "20000", "400", "200", at(20, month=10))
    finance = auth.login("finance", org=hq)
    return World(finance, a1, a2, a3, l1, l2, partner, hq, october)


def settle(client, headers, period: str) -> list[dict]:
    started = client.post("/api/v1/settlements", json={"period": period}, headers=headers)
    assert started.status_code == 202, started.json
    job = client.get(f"/api/v1/jobs/{started.json['job_id']}", headers=headers).json
    assert job["status"] == "finished", job
    return [
        client.get(f"/api/v1/settlements/{sid}", headers=headers).json
        for sid in started.json["settlement_ids"]
    ]


def totals(settlements: list[dict]) -> dict[str, str]:
    return {s["payee_key"]: s["total"] for st in settlements for s in st["statements"]}


def approve_october(client, world: World) -> None:
    for s in settle(client, world.finance, "2026-10"):
        assert (
            client.post(f"/api/v1/settlements/{s['id']}/approve", headers=world.finance).status_code
            == 200
        )
    with db.unit_of_work(SYSTEM) as session:
        session.execute(
            update(Loan)
            .where(Loan.id == world.october_loan.id)
            .values(status="cancelled", cancelled_at=at(5), cancel_reason="借款人撤回")
        )


@pytest.mark.parametrize(
    ("tier_mode", "a1_total", "a1_lines"),
    [
        # 140,000 crosses 100,000: the whole month at 20%
        ("whole", "840.00", ["240.00", "120.00", "320.00", "160.00"]),
        # 60,000 at 10%; then 40,000 at 10% and 40,000 at 20%: 15% of the second loan's fees
        ("marginal", "540.00", ["120.00", "60.00", "240.00", "120.00"]),
    ],
)
def test_a_hand_worked_month_settles_to_the_cent(client, world, tier_mode, a1_total, a1_lines):
    created = client.post("/api/v1/commission-plans", json=plan(tier_mode), headers=world.finance)
    assert created.status_code == 201, created.json
    approve_october(client, world)

    november = settle(client, world.finance, "2026-11")
    assert totals(november) == {
        f"user:{world.a1.id}": a1_total,
        # 10% of 1,000 + 500, less October's 40 + 20 clawed back for the cancelled loan
        f"user:{world.a2.id}": "90.00",
        # 5% of every HQ fee this month (285.00), less October's 20 + 10
        f"user:{world.l1.id}": "255.00",
        f"user:{world.a3.id}": "120.00",
        f"user:{world.l2.id}": "60.00",
        # the partner's 30% of its loan's fees
        f"org:{world.partner.id}": "360.00",
    }
    lines = {s["payee_key"]: s["lines"] for st in november for s in st["statements"]}
    assert [line["amount"] for line in lines[f"user:{world.a1.id}"]] == a1_lines
    clawed = [line for line in lines[f"user:{world.a2.id}"] if line["kind"] == "clawback"]
    assert [(c["amount"], c["note"]) for c in clawed] == [
        ("-40.00", "贷款取消"),
        ("-20.00", "贷款取消"),
    ]
    for statement in (s for st in november for s in st["statements"]):
        assert sum(Decimal(line["amount"]) for line in statement["lines"]) == Decimal(
            statement["total"]
        )

    again = settle(client, world.finance, "2026-11")
    assert totals(again) == totals(november)
    assert [s["id"] for s in again] == [s["id"] for s in november]


def test_a_plan_change_dated_next_month_leaves_this_month_alone(client, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    richer = plan(
        effective_from="2026-12-01",
        tiers=[{"min_volume": "0", "agent_rate": "0.50"}],
        service_fee_split={"agent": "0", "team_lead": "0.10", "org": "0.30"},
    )
    later = client.post("/api/v1/commission-plans", json=richer, headers=world.finance)
    assert later.status_code == 201
    november = totals(settle(client, world.finance, "2026-11"))
    assert november[f"user:{world.a2.id}"] == "150.00"


def test_an_approved_month_is_closed_to_re_runs_and_backdated_plans(client, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    november = settle(client, world.finance, "2026-11")
    for s in november:
        approved = client.post(f"/api/v1/settlements/{s['id']}/approve", headers=world.finance)
        assert approved.json["status"] == "approved"
    assert totals(settle(client, world.finance, "2026-11")) == totals(november)
    backdated = client.post(
        "/api/v1/commission-plans", json=plan(effective_from="2026-11-01"), headers=world.finance
    )
    assert backdated.json["error"]["code"] == "period_closed"
    adjust = client.post(
        f"/api/v1/settlements/{november[0]['id']}/adjustments",
        json={"payee_user_id": world.a1.id, "amount": "10.00", "reason": "补发"},
        headers=world.finance,
    )
    assert adjust.json["error"]["code"] == "settlement_locked"


def test_finance_approves_an_agent_cannot_and_reads_only_their_own(client, auth, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    november = settle(client, world.finance, "2026-11")
    agent = auth.headers_for(world.a1.username)
    assert (
        client.post(f"/api/v1/settlements/{november[0]['id']}/approve", headers=agent).status_code
        == 403
    )
    mine = client.get("/api/v1/statements", headers=agent).json["items"]
    assert [s["payee_key"] for s in mine] == [f"user:{world.a1.id}"]
    other = next(
        s for st in november for s in st["statements"] if s["payee_key"] != mine[0]["payee_key"]
    )
    assert client.get(f"/api/v1/statements/{other['id']}", headers=agent).status_code == 404
    csv = client.get(f"/api/v1/statements/{mine[0]['id']}.csv", headers=agent)
    assert csv.status_code == 200 and "840.00" in csv.get_data(as_text=True)


def test_a_partner_reads_its_own_statements_only(client, auth, make, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    settle(client, world.finance, "2026-11")
    sz = auth.login("partner_admin", org=world.partner)
    keys = {s["payee_key"] for s in client.get("/api/v1/statements", headers=sz).json["items"]}
    assert keys == {f"user:{world.a3.id}", f"user:{world.l2.id}", f"org:{world.partner.id}"}
    other = auth.login("partner_admin", org=make.org("partner"))
    assert client.get("/api/v1/statements", headers=other).json["total"] == 0
    hq_statement = next(
        s
        for s in client.get("/api/v1/statements", headers=world.finance).json["items"]
        if s["org_id"] == world.hq.id
    )
    assert client.get(f"/api/v1/statements/{hq_statement['id']}", headers=sz).status_code == 404


def test_an_adjustment_is_a_line_with_reason_and_approver_and_survives_a_re_run(client, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    hq_settlement = next(
        s for s in settle(client, world.finance, "2026-11") if s["org_id"] == world.hq.id
    )
    adjusted = client.post(
        f"/api/v1/settlements/{hq_settlement['id']}/adjustments",
        json={"payee_user_id": world.a2.id, "amount": "-15.50", "reason": "客户投诉扣减"},
        headers=world.finance,
    )
    assert adjusted.status_code == 201, adjusted.json
    assert adjusted.json["total"] == "134.50"
    line = adjusted.json["lines"][-1]
    assert (line["kind"], line["note"], line["approver_id"] is not None) == (
        "adjustment",
        "客户投诉扣减",
        True,
    )
    rerun = totals(settle(client, world.finance, "2026-11"))
    assert rerun[f"user:{world.a2.id}"] == "134.50"


def test_the_agent_sees_the_month_so_far(client, auth, world, monkeypatch):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    monkeypatch.setattr(
        "crm.commissions.estimate.utcnow", lambda: datetime(2026, 11, 25, 4, tzinfo=UTC)
    )
    month = client.get("/api/v1/commissions/me", headers=auth.headers_for(world.a1.username)).json
    assert month == {
        "period": "2026-11",
        "earned": "840.00",
        "loans": 2,
        "disbursed_volume": "140000.00",
        "tier_rate": "0.20",
    }


def test_a_month_not_over_is_not_settled(client, world):
    this_month = datetime.now(SHANGHAI).strftime("%Y-%m")
    refused = client.post("/api/v1/settlements", json={"period": this_month}, headers=world.finance)
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "period_not_over"


def test_the_channel_report_counts_fee_revenue_and_commission_per_channel_and_team(client, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    settle(client, world.finance, "2026-11")
    report = client.get(
        "/api/v1/reports/channels?from=2026-11-01&to=2026-12-01", headers=world.finance
    ).json
    (baidu,) = report["channels"]
    # the four November loans' fees, and every line stated on them (whole mode)
    assert (baidu["revenue"], baidu["commission_cost"]) == ("6900.00", "1815.00")
    teams = {t["team"]: (t["disbursed"], t["revenue"], t["commission"]) for t in report["teams"]}
    assert teams == {
        "北京一组": (3, "5700.00", "1275.00"),
        "深圳一组": (1, "1200.00", "540.00"),
    }


def test_before_any_loan_the_month_shows_the_first_tier(client, auth, make, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    newcomer = make.user("agent", org=world.hq)
    month = client.get("/api/v1/commissions/me", headers=auth.headers_for(newcomer.username)).json
    assert (month["earned"], month["loans"], month["tier_rate"]) == ("0.00", 0, "0.10")


def test_statements_filter_by_org(client, world):
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    settle(client, world.finance, "2026-11")
    listed = client.get(
        f"/api/v1/statements?org_id={world.partner.id}", headers=world.finance
    ).json["items"]
    assert {s["org_id"] for s in listed} == {world.partner.id} and len(listed) == 3


def test_a_monthly_cap_sent_as_a_string_caps_the_agent(client, world):
    capped = client.post(
        "/api/v1/commission-plans", json=plan(agent_monthly_cap="500.00"), headers=world.finance
    )
    assert capped.status_code == 201, capped.json
    november = totals(settle(client, world.finance, "2026-11"))
    assert november[f"user:{world.a1.id}"] == "500.00"


def overdue_loan(make, org, product, agent, paid_out: date, due: date, paid_on=None) -> int:
    """A loan paid out on `paid_out`, its one installment due on `due` and paid on `paid_on`."""
    principal = Decimal("10000.00")
    paid = principal if paid_on else Decimal(0)
    lead = make.lead(org=org, owner=agent)
    disbursed_at = datetime.combine(paid_out, time(10), SHANGHAI)
    row, (installment,) = make_loan(
        lead, product, [Due(due, principal, paid)], agent=agent, disbursed_at=disbursed_at
    )
    with db.unit_of_work(SYSTEM) as session:
        fees = {"service_fee": Decimal("1000.00"), "channel_fee": Decimal("500.00")}
        session.execute(update(Loan).where(Loan.id == row.id).values(**fees))
        if paid_on:
            paid_at = datetime.combine(paid_on, time(10), SHANGHAI)
            session.execute(
                update(Installment).where(Installment.id == installment.id).values(paid_at=paid_at)
            )
    return row.id


def test_an_installment_overdue_past_the_days_by_the_window_or_the_month_end_claws_back(
    client, auth, make
):
    hq = make.org("hq")
    finance = auth.login("finance", org=hq)
    agent = make.user("agent", org=hq)
    _, product = make_lender(hq)
    # October's loans keep 40 days; November's 90-day plan has the window reach back to them
    for version in (plan(clawback_days=40), plan(effective_from="2026-11-01")):
        assert (
            client.post("/api/v1/commission-plans", json=version, headers=finance).status_code
            == 201
        )

    def lent(paid_out: int, due: int, paid_on: date | None = None) -> int:
        return overdue_loan(
            make, hq, product, agent, date(2026, 10, paid_out), date(2026, 10, due), paid_on
        )

    # paid out on October 3, the window ends November 12: 31 days overdue by then or not
    window_in, window_out = lent(3, 12), lent(3, 13)
    # unpaid on the day it was 31 days overdue, or paid the day before
    paid_that_day, paid_before = lent(3, 12, date(2026, 11, 12)), lent(3, 12, date(2026, 11, 11))
    # paid out on October 25, the window ends December 4: 31 days overdue in November or not
    month_in, month_out = lent(25, 30), lent(25, 31)
    october = settle(client, finance, "2026-10")
    for s in october:
        approved = client.post(f"/api/v1/settlements/{s['id']}/approve", headers=finance)
        assert approved.status_code == 200

    november = settle(client, finance, "2026-11")

    def lines(settlements: list[dict]) -> list[dict]:
        return [line for st in settlements for s in st["statements"] for line in s["lines"]]

    # every loan's shares were paid in October, and half of them go back in November
    paid = {line["loan_id"] for line in lines(october)}
    assert paid == {window_in, window_out, paid_that_day, paid_before, month_in, month_out}
    clawed = {
        (line["loan_id"], line["note"]) for line in lines(november) if line["kind"] == "clawback"
    }
    assert clawed == {(loan, "逾期超过 30 天") for loan in (window_in, paid_that_day, month_in)}


def test_a_settlement_run_on_an_injected_clock_stamps_its_rows_with_it(client, make, world):
    """Settlement, statement and line rows took the wall clock whatever `now` the services
    were given: a month settled in the demo's history was dated the day the demo was built.
    So did a manual adjustment's line, and the statement it opens for a payee without one."""
    client.post("/api/v1/commission-plans", json=plan(), headers=world.finance)
    then = at(2, month=12)
    newcomer = make.user("agent", org=world.hq)
    with db.unit_of_work(SYSTEM) as session:
        finance = actor_for_user(
            session, session.scalar(select(User.id).where(User.role == "finance"))
        )
        body = NewSettlement(period="2026-11", org_id=world.hq.id)
        _, (settlement_id,) = service.start_settlement(
            session, finance, body, lambda *_: None, then
        )
        run_settlement(session, settlement_id, now=then)
        # one on a statement the run opened, one that opens its own
        for payee in (world.a2, newcomer):
            correction = NewAdjustment(
                payee_user_id=payee.id, amount=Decimal("-15.50"), reason="扣减"
            )
            service.adjust(session, finance, settlement_id, correction, then)
    with db.unit_of_work(SYSTEM) as session:
        stamps = {
            model.__tablename__: set(session.scalars(select(model.created_at)))
            for model in (Settlement, Statement, StatementLine)
        }
    assert stamps == {name: {then} for name in stamps}


def clawbacks(settlements: list[dict]) -> list[tuple[int, str]]:
    return sorted(
        (line["loan_id"], line["amount"])
        for st in settlements
        for s in st["statements"]
        for line in s["lines"]
        if line["kind"] == "clawback"
    )


@pytest.fixture
def in_february(monkeypatch) -> None:
    """Months up to January 2027 are over (settling checks the clock before and as it runs)."""
    february = datetime(2027, 2, 2, 2, tzinfo=UTC)
    for module in ("crm.commissions.service", "crm.commissions.settlement"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: february)


def settle_and_approve(client, headers, period: str) -> list[dict]:
    settlements = settle(client, headers, period)
    for s in settlements:
        approved = client.post(f"/api/v1/settlements/{s['id']}/approve", headers=headers)
        assert approved.status_code == 200, approved.json
    return settlements


def test_an_overdue_trigger_in_the_month_its_window_ends_claws_back_once(
    client, auth, make, in_february
):
    """The loans read for clawbacks reached back the window from the month's end: a loan paid out
    on October 15 (45 days: to November 29) whose November 15 installment was 11 days overdue on
    November 26 was read neither by November nor by December, and its shares were kept; so were
    those of a loan paid out on October 14 and cancelled on November 28, its window's last day."""
    hq = make.org("hq")
    finance = auth.login("finance", org=hq)
    agent = make.user("agent", org=hq)
    _, product = make_lender(hq)
    terms = plan(clawback_days=45, clawback_overdue_days=10)
    assert client.post("/api/v1/commission-plans", json=terms, headers=finance).status_code == 201
    on_14, on_15, on_16 = (
        overdue_loan(make, hq, product, agent, date(2026, 10, day), date(2026, 11, 15))
        for day in (14, 15, 16)
    )
    october = settle_and_approve(client, finance, "2026-10")
    shares = {line["loan_id"] for st in october for s in st["statements"] for line in s["lines"]}
    assert shares == {on_14, on_15, on_16}
    with db.unit_of_work(SYSTEM) as session:
        cancelled_at = datetime.combine(date(2026, 11, 28), time(10), SHANGHAI)
        session.execute(
            update(Loan)
            .where(Loan.id == on_14)
            .values(status="cancelled", cancelled_at=cancelled_at)
        )

    november = settle_and_approve(client, finance, "2026-11")
    # the next months read these loans again (their windows reach into the month before)
    later = [settle_and_approve(client, finance, month) for month in ("2026-12", "2027-01")]

    # the agent's 10% (first tier) of each fee, 1,000 and 500: the loans are HQ's, with no team
    assert clawbacks(november) == [
        (loan_id, amount) for loan_id in (on_14, on_15, on_16) for amount in ("-100.00", "-50.00")
    ]
    notes = {line["note"] for st in november for s in st["statements"] for line in s["lines"]}
    assert notes == {"贷款取消", "逾期超过 10 天"}
    assert [clawbacks(month) for month in later] == [[], []]


def test_a_share_approved_after_its_loans_trigger_month_claws_back_the_month_after(
    client, auth, make, in_february
):
    """Fees accrued when collected: a fee collected in the month the loan went overdue, its window
    ending that month, is paid in that month's statement and goes back in the next month's."""
    hq = make.org("hq")
    finance = auth.login("finance", org=hq)
    agent = make.user("agent", org=hq)
    _, product = make_lender(hq)
    terms = plan(clawback_days=45, clawback_overdue_days=10, accrue_on="fee_collected")
    assert client.post("/api/v1/commission-plans", json=terms, headers=finance).status_code == 201
    loan_id = overdue_loan(make, hq, product, agent, date(2026, 10, 15), date(2026, 11, 15))
    collected = datetime.combine(date(2026, 11, 10), time(10), SHANGHAI)
    with db.unit_of_work(SYSTEM) as session:
        session.execute(
            update(Loan)
            .where(Loan.id == loan_id)
            .values(service_fee_collected_at=collected, channel_fee_collected_at=collected)
        )

    november = settle_and_approve(client, finance, "2026-11")
    december = settle_and_approve(client, finance, "2026-12")
    january = settle_and_approve(client, finance, "2027-01")

    assert clawbacks(november) == []
    assert clawbacks(december) == [(loan_id, "-100.00"), (loan_id, "-50.00")]
    assert clawbacks(january) == []
