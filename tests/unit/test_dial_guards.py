"""The calling rules, each refusing with its code."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from dialer.guards import DialFacts, local_time, refusal

OK = DialFacts(
    may_call_lead=True,
    on_dnc_list=False,
    local_now=datetime(2026, 11, 23, 10, 0),
    calling_hours=(time(9), time(20)),
    calls_to_lead_today=0,
    max_calls_per_lead_per_day=3,
    agent_on_a_call=False,
)


def test_a_dial_within_every_rule_is_allowed():
    assert refusal(OK) is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"may_call_lead": False}, "not_owner"),
        ({"on_dnc_list": True}, "dnc"),
        ({"local_now": datetime(2026, 11, 23, 8, 59)}, "outside_calling_hours"),
        ({"local_now": datetime(2026, 11, 23, 20, 0)}, "outside_calling_hours"),
        ({"calls_to_lead_today": 3}, "frequency_cap"),
        ({"agent_on_a_call": True}, "busy"),
    ],
)
def test_each_rule_refuses_with_its_code(change, code):
    assert refusal(replace(OK, **change)) == code


def test_dnc_wins_over_rules_that_time_would_fix():
    facts = replace(
        OK, on_dnc_list=True, local_now=datetime(2026, 11, 23, 22, 0), calls_to_lead_today=5
    )
    assert refusal(facts) == "dnc"


def test_calling_hours_are_read_in_the_orgs_time_zone():
    # 01:30 UTC is 09:30 in Shanghai: inside the hours there, outside them in UTC
    shanghai = local_time(datetime(2026, 11, 23, 1, 30, tzinfo=UTC), "Asia/Shanghai")
    assert shanghai.hour == 9
    assert refusal(replace(OK, local_now=shanghai)) is None
