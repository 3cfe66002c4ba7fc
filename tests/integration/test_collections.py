"""Collection records (催收记录): only on an overdue loan, at the level its age gives, on the lead's
timeline and the overdue list; and collection calls keep to the dialer's calling rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.compliance.retention import retire_expired
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.leads.models import Lead
from crm.loans.collections import add_collection
from crm.loans.collections_schemas import NewCollection
from crm.pools.recycle import recycle
from dialer.dnc import add_number
from dialer.models import CallerId
from dialer.service import DialRefused, plan_dial
from tests import loan_rows
from tests.loan_helpers import apply, make_lender, make_product, post
from tests.loan_rows import Due, borrower_world, cancel, make_loan

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 9, 10)
THOUSAND = Decimal("1000.00")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


def actor_of(user):
    with db.unit_of_work(SYSTEM) as session:
        return actor_for_user(session, user.id)


def note(**fields) -> NewCollection:
    return NewCollection(channel=fields.pop("channel", "call"), content="客户称月底还款", **fields)


@pytest.fixture
def world(make):
    return borrower_world(make, "13912345678", "李四")


def test_the_level_escalates_with_the_days_past_due_of_the_oldest_unpaid_installment(world):
    schedule = [Due(DUE, THOUSAND), Due(DUE + timedelta(days=30), THOUSAND)]
    loan, _ = make_loan(world.lead, world.product, schedule, agent=world.agent)
    actor = actor_of(world.agent)
    levels = {}
    for days in (1, 30, 31, 60, 61, 90, 91, 400):
        with db.unit_of_work(actor) as session:
            view = add_collection(session, actor, loan.id, note(), now=at(DUE + timedelta(days)))
            levels[days] = (view.level, view.bucket, view.handler, view.days_past_due)

    assert levels == {
        1: (1, "M1", "agent", 1),
        30: (1, "M1", "agent", 30),
        31: (2, "M2", "team_lead", 31),
        60: (2, "M2", "team_lead", 60),
        61: (3, "M3", "manager", 61),
        90: (3, "M3", "manager", 90),
        91: (4, "M3+", "legal", 91),
        400: (4, "M3+", "legal", 400),
    }


def test_a_loan_paid_up_to_date_or_cancelled_is_not_collected(world):
    day = DUE + timedelta(days=1)
    # the last installment paid, the next one due on the day itself: nothing is past due
    schedule = [Due(DUE - timedelta(days=30), THOUSAND, paid=THOUSAND), Due(day, THOUSAND)]
    up_to_date, _ = make_loan(world.lead, world.product, schedule, agent=world.agent)
    reversed_loan, _ = make_loan(world.lead, world.product, [Due(DUE, THOUSAND)])
    cancel(reversed_loan, at(DUE))
    actor = actor_of(world.agent)
    for loan in (up_to_date, reversed_loan):
        with pytest.raises(DomainError) as refused, db.unit_of_work(actor) as session:
            add_collection(session, actor, loan.id, note(), now=at(day, 23))
        assert (refused.value.code, refused.value.status) == ("not_overdue", 422)


@pytest.fixture
def desk(client, auth, make):
    """An org's agent with the admin and reviewer who take a loan to disbursement."""
    org = make.org()
    agent = make.user("agent", org=org)
    admin = auth.login("admin", org=org)
    return SimpleNamespace(
        org=org,
        agent=agent,
        admin=admin,
        reviewer=auth.login("reviewer", org=org),
        headers=auth.headers_for(agent.username),
        product_id=make_product(client, admin, make_lender(client, admin))["id"],
    )


def disbursed_loan(client, make, desk, days_ago: int) -> tuple:
    """A 12-month loan built through the API, disbursed `days_ago` days ago."""
    lead = make.lead(org=desk.org, owner=desk.agent, stage="qualified", reached_rank=2)
    application = apply(client, desk.headers, lead.id, desk.product_id, amount="12000.00")
    path = f"/applications/{application['id']}"
    post(client, desk.headers, f"{path}/submit")
    post(client, desk.reviewer, f"{path}/decision", {"approved": True, "note": "ok"})
    post(client, desk.headers, f"{path}/contract")
    post(client, desk.headers, f"{path}/contract/sign", {})
    when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    body = {"amount": "12000.00", "disbursed_at": when}
    loan = post(client, desk.admin, f"{path}/disburse", body)
    assert loan.status_code == 201, loan.json
    return lead, loan.json


def test_an_agent_records_collection_on_an_overdue_loan_and_the_lead_timeline_shows_it(
    client, make, desk
):
    # its installments fell due about 70, 40 and 10 days ago: the loan is in M3
    lead, loan = disbursed_loan(client, make, desk, days_ago=100)
    base = f"/api/v1/loans/{loan['id']}/collections"
    body = {
        "channel": "call",
        "content": "客户承诺下周还一期",
        "result": "promised",
        "promised_date": (date.today() + timedelta(days=7)).isoformat(),
        "promised_amount": "1055.00",
    }

    created = client.post(base, json=body, headers=desk.headers)

    assert created.status_code == 201, created.json
    record = created.json
    assert (record["level"], record["bucket"], record["handler"]) == (3, "M3", "manager")
    assert 61 <= record["days_past_due"] <= 90
    assert (record["promised_amount"], record["user_id"]) == ("1055.00", desk.agent.id)
    listed = client.get(base, headers=desk.headers).json
    assert [r["id"] for r in listed["items"]] == [record["id"]]
    assert listed["items"][0]["days_past_due"] == record["days_past_due"]
    timeline = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=desk.headers).json
    [event] = [e for e in timeline["items"] if e["kind"] == "collection"]
    assert event["data"] == {
        "loan_id": loan["id"],
        "collection_id": record["id"],
        "level": 3,
        "bucket": "M3",
        "days_past_due": record["days_past_due"],
        "channel": "call",
        "result": "promised",
    }
    overdue = client.get("/api/v1/loans/overdue", headers=desk.headers).json["items"]
    assert [r["n"] for r in overdue] == [1, 2, 3]
    assert record["installment_id"] == overdue[0]["id"]  # the oldest one sets the level
    assert {(r["loan_id"], r["collections"]) for r in overdue} == {(loan["id"], 1)}
    last = {datetime.fromisoformat(r["last_collection_at"]) for r in overdue}
    assert last == {datetime.fromisoformat(record["created_at"])}


def test_collection_records_are_refused_when_not_overdue_not_allowed_or_not_visible(
    client, auth, make, desk
):
    _, fresh = disbursed_loan(client, make, desk, days_ago=1)
    _, overdue = disbursed_loan(client, make, desk, days_ago=45)
    body = {"channel": "sms", "content": "已发送逾期提醒短信"}

    def attempt(loan, headers, **extra):
        path = f"/api/v1/loans/{loan['id']}/collections"
        return client.post(path, json={**body, **extra}, headers=headers)

    assert attempt(fresh, desk.headers).json["error"]["code"] == "not_overdue"
    long_ago = (date.today() - timedelta(days=2)).isoformat()
    past = attempt(overdue, desk.headers, promised_date=long_ago)
    assert past.json["error"]["code"] == "invalid_promised_date"
    assert attempt(overdue, desk.headers, channel="fax").json["error"]["code"] == "validation_error"
    assert attempt(overdue, desk.reviewer).status_code == 403
    outsider = auth.login("partner_agent", org=make.org("partner"))
    assert attempt(overdue, outsider).status_code == 404
    listed = client.get(f"/api/v1/loans/{overdue['id']}/collections", headers=outsider)
    assert listed.status_code == 404


def test_collection_calls_keep_to_the_calling_hours_and_the_dnc_list(world, make):
    make_loan(world.lead, world.product, [Due(DUE, THOUSAND)], agent=world.agent)
    actor = actor_of(world.agent)
    with db.unit_of_work(SYSTEM) as session:
        session.add(CallerId(org_id=world.org.id, number="01080000001", daily_cap=150))
    overdue_day = DUE + timedelta(days=5)

    def dial(hour: int) -> str:
        try:
            with db.unit_of_work(actor) as session:
                plan_dial(session, actor, runtime.vault, world.lead.id, now=at(overdue_day, hour))
        except DialRefused as refused:
            return refused.code
        return "dialing"

    assert dial(21) == "outside_calling_hours"
    assert dial(7) == "outside_calling_hours"
    manager = actor_of(make.user("manager", org=world.org))
    with db.unit_of_work(manager) as session:
        add_number(session, manager, runtime.vault, "13912345678", "借款人要求停止催收来电")
    assert dial(10) == "dnc"


def test_an_overdue_borrower_not_on_the_dnc_list_is_dialled_inside_the_hours(world):
    make_loan(world.lead, world.product, [Due(DUE, THOUSAND)], agent=world.agent)
    actor = actor_of(world.agent)
    with db.unit_of_work(SYSTEM) as session:
        session.add(CallerId(org_id=world.org.id, number="01080000001", daily_cap=150))
    with db.unit_of_work(actor) as session:
        plan = plan_dial(session, actor, runtime.vault, world.lead.id, now=at(DUE, 10))
        assert plan.call.state == "dialing"
        assert plan.callee_e164 == "+8613912345678"


def borrowers_left_alone_since(make, since: datetime, stage: str) -> tuple:
    """An agent's two borrowers, each with a loan overdue since DUE, nobody's touched since
    `since`, and an actor for the agent."""
    org = make.org()
    agent = make.user("agent", org=org)
    _, product = loan_rows.make_lender(org)
    idle = {"created_at": since, "claimed_at": since, "stage_changed_at": since}
    leads = [make.lead(org, owner=agent, stage=stage, **idle) for _ in range(2)]
    loans = [make_loan(lead, product, [Due(DUE, THOUSAND)], agent=agent)[0] for lead in leads]
    return leads, loans, actor_of(agent)


def stored_lead(lead) -> Lead:
    with db.unit_of_work(SYSTEM) as session:
        return session.get(Lead, lead.id)


def test_a_collection_contact_is_a_follow_up_so_recycling_leaves_the_lead_with_its_agent(make):
    now = at(DUE + timedelta(days=20))
    # a loan book imported with its leads keeps their stage: recycling reads such leads
    (collected, silent), (loan, _), actor = borrowers_left_alone_since(
        make, now - timedelta(days=10), "contacted"
    )
    with db.unit_of_work(actor) as session:
        add_collection(session, actor, loan.id, note(), now=now)

    assert recycle(lambda: db.unit_of_work(SYSTEM), now + timedelta(hours=1))["no_followup"] == 1
    assert stored_lead(collected).last_followup_at == now
    assert stored_lead(collected).owner_id == actor.user_id
    assert stored_lead(silent).owner_id is None


def test_a_borrower_in_collection_is_not_de_identified_as_idle(make):
    now = at(DUE + timedelta(days=20))
    # disbursed (the funnel's end) two years and more ago, the loan overdue now
    (collected, silent), (loan, _), actor = borrowers_left_alone_since(
        make, now - timedelta(days=800), "disbursed"
    )
    with db.unit_of_work(actor) as session:
        add_collection(session, actor, loan.id, note(), now=now)

    retired = retire_expired(lambda: db.unit_of_work(SYSTEM), runtime.vault, now + timedelta(1))
    assert retired == {"deidentified": 1}
    assert stored_lead(collected).name_enc is not None
    assert stored_lead(silent).name_enc is None
