"""Repayment reminders: on which local days each kind goes out, once, inside calling hours, never
to a DNC number, and what the agent and the borrower are told. The clock is injected."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.extensions import db, runtime
from crm.loans.models import LoanReminderSent, OutboundMessage
from crm.loans.reminders import (
    REMINDERS,
    _send_batch,
    due_installments,
    prune_sent,
    send_loan_reminders,
)
from crm.loans.senders import RecordingSender
from crm.notifications.models import Notification
from crm.orgs.schemas import OrgSettings
from dialer.dnc import add_number
from tests.loan_rows import Due, borrower_world, cancel, make_lender, make_loan

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 12, 15)
DAY = timedelta(days=1)
THOUSAND = Decimal("1000.00")


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """That local time in Shanghai, the default org zone."""
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def _transaction():
    return db.unit_of_work(SYSTEM)


class Pushes(list):
    def __call__(self, event, data, room, namespace):
        self.append((event, data["code"], data["lead_ids"], room, namespace))


def sweep(now: datetime, pushes: Pushes | None = None) -> dict[str, int]:
    pushes = Pushes() if pushes is None else pushes
    return send_loan_reminders(_transaction, now, pushes, RecordingSender())


def sent(*installments) -> list[tuple[int, str]]:
    ids = [i.id for i in installments]
    with db.unit_of_work(SYSTEM) as session:
        rows = session.execute(
            select(LoanReminderSent.installment_id, LoanReminderSent.kind)
            .where(LoanReminderSent.installment_id.in_(ids))
            .order_by(LoanReminderSent.id)
        )
        return [tuple(row) for row in rows]


def messages(lead) -> list[tuple[str, str, str]]:
    with db.unit_of_work(SYSTEM) as session:
        rows = session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.lead_id == lead.id)
            .order_by(OutboundMessage.id)
        )
        return [(m.template, m.status, m.body) for m in rows]


def notices(user) -> list[tuple[str, list[int]]]:
    with db.unit_of_work(SYSTEM) as session:
        rows = session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
        return [(n.code, n.data["lead_ids"]) for n in rows]


@pytest.fixture
def world(make):
    return borrower_world(make, "13812345678", "张三丰")


def test_reminders_go_out_ten_and_three_days_ahead_and_the_day_after_a_miss(world, make):
    # and never for a paid installment or a cancelled loan
    _, (due,) = make_loan(world.lead, world.product, [Due(DUE, THOUSAND)], agent=world.agent)
    repaid_lead = make.lead(world.org, owner=world.agent)
    _, (repaid,) = make_loan(repaid_lead, world.product, [Due(DUE, THOUSAND, paid=THOUSAND)])
    reversed_lead = make.lead(world.org, owner=world.agent)
    reversed_loan, (unowed,) = make_loan(reversed_lead, world.product, [Due(DUE, THOUSAND)])
    cancel(reversed_loan, at(DUE - 20 * DAY))

    by_day = {}
    for offset in range(-12, 10):
        day = DUE + offset * DAY
        result = sweep(at(day))
        by_day[offset] = (result["reminded"], result["messages"])

    assert {offset: n for offset, n in by_day.items() if n != (0, 0)} == {
        -10: (1, 1),
        -3: (1, 1),
        1: (1, 1),
    }
    assert sent(due, repaid, unowed) == [
        (due.id, "due_in_10"),
        (due.id, "due_in_3"),
        (due.id, "missed"),
    ]
    assert [template for template, _, _ in messages(world.lead)] == [
        "due_in_10",
        "due_in_3",
        "missed",
    ]
    assert messages(repaid_lead) == messages(reversed_lead) == []


def test_a_reminder_missed_on_its_day_goes_out_late_only_inside_its_window(world):
    today = DUE
    schedule = [
        Due(today + 6 * DAY, THOUSAND),  # T-6: the T-10 reminder, four days late, still useful
        Due(today + 2 * DAY, THOUSAND),  # T-2: the T-3 one a day late; its T-10 is skipped
        Due(today - 7 * DAY, THOUSAND),  # a week after the miss: the last day to hear of it
        Due(today - 8 * DAY, THOUSAND),  # past that it is collection's business, not a text's
    ]
    _, rows = make_loan(world.lead, world.product, schedule, agent=world.agent)

    assert sweep(at(today))["reminded"] == 3
    assert sent(*rows) == [
        (rows[0].id, "due_in_10"),
        (rows[1].id, "due_in_3"),
        (rows[2].id, "missed"),
    ]


def test_a_rerun_sends_nothing_twice_and_neither_does_a_run_that_read_the_same_rows(world):
    make_loan(world.lead, world.product, [Due(DUE, THOUSAND)], agent=world.agent)
    now = at(DUE - 3 * DAY)
    reminder = next(r for r in REMINDERS if r.kind == "due_in_3")
    with db.unit_of_work(SYSTEM) as session:
        # an overlapping run read the installment, and the other run sends before it claims
        stale = session.execute(due_installments(reminder, [world.org.id], now.date())).all()

    first = sweep(now)
    again = sweep(now + timedelta(hours=1))
    with db.unit_of_work(SYSTEM) as session:
        late = _send_batch(
            session, stale, reminder=reminder, push=Pushes(), sender=RecordingSender(), now=now
        )

    assert (first["reminded"], again["reminded"], late["reminded"]) == (1, 0, 0)
    assert late["messages"] == 0
    assert len(messages(world.lead)) == 1
    assert notices(world.agent) == [("loan_due_in_3", [world.lead.id])]


def test_nothing_goes_out_outside_the_orgs_calling_hours_in_its_own_time_zone(world, make):
    _, (due,) = make_loan(world.lead, world.product, [Due(DUE, THOUSAND)], agent=world.agent)
    # Urumqi keeps its clocks two hours behind Beijing's
    west = make.org(settings=OrgSettings(timezone="Asia/Urumqi").model_dump())
    west_lead = make.lead(west, owner=make.user("agent", org=west))
    _, west_product = make_lender(west)
    _, (west_due,) = make_loan(west_lead, west_product, [Due(DUE, THOUSAND)])
    day = DUE - 3 * DAY

    early = sweep(at(day, 8, 59))  # 06:59 in Urumqi
    evening = sweep(at(day, 20, 0))  # closing time in Beijing, 18:00 in Urumqi
    next_morning = sweep(at(day + DAY, 9, 0))  # the T-3 reminder a day late is still useful

    assert [r["reminded"] for r in (early, evening, next_morning)] == [0, 1, 1]
    assert early["orgs_outside_hours"] >= 2 and evening["orgs_outside_hours"] >= 1
    assert sent(due, west_due) == [(west_due.id, "due_in_3"), (due.id, "due_in_3")]


def test_the_agent_hears_of_a_dnc_borrower_who_gets_no_message(world, make):
    _, (due,) = make_loan(world.lead, world.product, [Due(DUE, THOUSAND)], agent=world.agent)
    manager = make.user("manager", org=world.org)
    with db.unit_of_work(SYSTEM) as session:
        add_number(session, _actor(manager), runtime.vault, "138 1234 5678", "要求勿扰")

    result = sweep(at(DUE + DAY))

    assert (result["reminded"], result["messages"], result["skipped_dnc"]) == (1, 0, 1)
    assert sent(due) == [(due.id, "missed")]
    assert messages(world.lead) == []
    assert notices(world.agent) == [("loan_missed", [world.lead.id])]


def test_the_owner_is_told_on_the_console_and_the_borrower_reads_masked_data_only(world, make):
    seller = make.user("agent", org=world.org)
    make_loan(world.lead, world.product, [Due(DUE, Decimal("1234.50"))], agent=seller)
    unowned = make.lead(world.org)
    make_loan(unowned, world.product, [Due(DUE, THOUSAND)], agent=seller)
    nobodys = make.lead(world.org)  # imported loan book: no agent on record, nobody to tell
    make_loan(nobodys, world.product, [Due(DUE, THOUSAND)])
    pushes = Pushes()

    result = sweep(at(DUE - 3 * DAY), pushes)

    assert (result["reminded"], result["messages"]) == (3, 3)

    # the lead's owner first, the agent who sold the loan when nobody owns the lead
    assert notices(world.agent) == [("loan_due_in_3", [world.lead.id])]
    assert notices(seller) == [("loan_due_in_3", [unowned.id])]
    assert sorted(room for *_, room, _ in pushes) == sorted(
        [f"user:{world.agent.id}", f"user:{seller.id}"]
    )
    [(template, status, body)] = messages(world.lead)
    assert (template, status) == ("due_in_3", "recorded")
    assert body == (
        "【还款提醒】张**您好，您的借款第1期应还1234.50元将于2026年12月15日到期，"
        "请确保还款账户余额充足。"
    )
    for secret in ("张三丰", "三丰", "13812345678", "5678"):
        assert secret not in body


def test_the_clean_up_deletes_sent_rows_past_every_window_and_nothing_is_sent_again(world):
    schedule = [Due(DUE, THOUSAND), Due(DUE + 30 * DAY, THOUSAND)]
    _, (first, second) = make_loan(world.lead, world.product, schedule, agent=world.agent)

    pruned = {}
    for offset in range(-10, 25):
        sweep(at(DUE + offset * DAY))
        result = prune_sent(_transaction, at(DUE + offset * DAY, 11))
        pruned[offset] = result["reminders_pruned"]

    # the missed reminder's window closes a week after the due date; two days' margin for the
    # orgs' time zones, and the first installment's three rows go on the tenth day
    assert {offset: n for offset, n in pruned.items() if n} == {10: 3}
    assert sent(first, second) == [(second.id, "due_in_10")]
    # fourteen more daily sweeps without the first installment's rows sent it nothing again
    assert [template for template, _, _ in messages(world.lead)] == [
        "due_in_10",
        "due_in_3",
        "missed",
        "due_in_10",
    ]


def test_a_sent_row_stays_while_its_reminder_could_still_go_out_twelve_hours_behind_utc(make):
    zone = ZoneInfo("Etc/GMT+12")
    settings = OrgSettings(
        timezone="Etc/GMT+12", calling_hours_start="00:00", calling_hours_end="23:59"
    )
    org = make.org(settings=settings.model_dump())
    lead = make.lead(org, owner=make.user("agent", org=org))
    _, product = make_lender(org)
    _, (due,) = make_loan(lead, product, [Due(DUE, THOUSAND)])
    assert sweep(datetime.combine(DUE + DAY, time(10), zone))["reminded"] == 1

    # the window's last minute, 11:58 on the next day in UTC: the row still stops a re-send
    last_minute = datetime.combine(DUE + 7 * DAY, time(23, 58), zone)
    assert prune_sent(_transaction, last_minute) == {"reminders_pruned": 0}
    assert sweep(last_minute)["reminded"] == 0
    assert sent(due) == [(due.id, "missed")]

    gone = datetime.combine(DUE + 10 * DAY, time(0), UTC)
    assert prune_sent(_transaction, gone) == {"reminders_pruned": 1}
    assert sweep(gone)["reminded"] == 0
    assert [template for template, _, _ in messages(lead)] == ["missed"]


def _actor(user):
    with db.unit_of_work(SYSTEM) as session:
        return actor_for_user(session, user.id)
