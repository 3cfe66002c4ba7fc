"""The calling rules checked before every dial (anti-harassment, PIPL), as plain functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class DialFacts:
    """Everything the rules look at, gathered by the service before a dial."""

    may_call_lead: bool  # owner, or a public lead dialled with claim-on-connect
    on_dnc_list: bool
    local_now: datetime  # now in the org's time zone
    calling_hours: tuple[time, time]
    calls_to_lead_today: int
    max_calls_per_lead_per_day: int
    agent_on_a_call: bool


MESSAGES = {
    "not_owner": "you can only dial your own leads (claim it first)",
    "dnc": "this number is on the do-not-call list",
    "outside_calling_hours": "calls are only allowed within the org's calling hours",
    "frequency_cap": "this lead has been called as often as allowed today",
    "busy": "finish your current call first",
    "no_caller_id": "every outbound number has reached its daily cap",
    "no_caller_id_configured": "no outbound number is configured for this org; "
    "an admin adds one under Admin → Caller IDs",
    "lead_in_call": "another console is already calling this lead",
}


def refusal(facts: DialFacts) -> str | None:
    """The first rule a dial would break, or None. DNC comes before everything that a retry
    later could fix, so the console never offers to call a DNC number "later"."""
    if not facts.may_call_lead:
        return "not_owner"
    if facts.on_dnc_list:
        return "dnc"
    start, end = facts.calling_hours
    if not start <= facts.local_now.time() < end:
        return "outside_calling_hours"
    if facts.calls_to_lead_today >= facts.max_calls_per_lead_per_day:
        return "frequency_cap"
    if facts.agent_on_a_call:
        return "busy"
    return None


def local_time(now: datetime, timezone: str) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


def parse_hours(start: str, end: str) -> tuple[time, time]:
    return time.fromisoformat(start), time.fromisoformat(end)
