"""Time in each agent state (recorded by the dialer) in the agent productivity report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer.models import AgentStateSpan
from tests.integration.test_reports import END, IN_OCTOBER, OCTOBER, START, report, save

STATE_TIMES = ("available", "dialing", "on_call", "wrap_up", "break")


def span(agent, state: str, start: datetime, seconds: float | None) -> AgentStateSpan:
    """A state span of `seconds`, or still open with None."""
    end = start + timedelta(seconds=seconds) if seconds is not None else None
    return AgentStateSpan(
        org_id=agent.org_id, user_id=agent.id, state=state, started_at=start, ended_at=end
    )


def times(row: dict) -> dict[str, int]:
    return {state: row[f"{state}_seconds"] for state in STATE_TIMES}


def test_time_in_each_state_is_summed_per_agent_and_clipped_to_the_period(client, make, auth):
    org = make.org()
    zhang = make.user("agent", org=org, display_name="张小明")
    zhao = make.user("agent", org=org, display_name="赵丽")
    make.user("agent", org=org, display_name="钱没上线")
    call_at = IN_OCTOBER
    save(
        span(zhang, "available", START - timedelta(minutes=10), 15 * 60),  # 5 min inside
        span(zhang, "dialing", call_at, 7),
        span(zhang, "on_call", call_at + timedelta(seconds=7), 180),
        span(zhang, "wrap_up", call_at + timedelta(seconds=187), 60),
        span(zhang, "available", call_at + timedelta(seconds=247), 3600),
        span(zhang, "break", END - timedelta(minutes=20), 3600),  # 20 min inside
        span(zhang, "available", START - timedelta(hours=2), 3600),  # before the period
        span(zhang, "available", END + timedelta(hours=1), None),  # after it
        # open since the last half hour of October: counts up to the end of the period
        span(zhao, "available", END - timedelta(minutes=30), None),
    )
    body = report(client, auth.login("manager", org=org), "agents", **OCTOBER)
    rows = {row["display_name"]: times(row) for row in body["agents"]}
    assert rows["张小明"] == {
        "available": 300 + 3600,
        "dialing": 7,
        "on_call": 180,
        "wrap_up": 60,
        "break": 1200,
    }
    assert rows["赵丽"] == {**dict.fromkeys(STATE_TIMES, 0), "available": 1800}
    assert rows["钱没上线"] == dict.fromkeys(STATE_TIMES, 0)


def test_a_state_still_open_counts_up_to_now(client, make, auth):
    org = make.org()
    agent = make.user("agent", org=org, display_name="孙在线")
    now = datetime.now(UTC).replace(microsecond=0)
    save(span(agent, "on_call", now - timedelta(minutes=10), None))
    period = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    before = datetime.now(UTC)
    [row] = report(client, auth.login("manager", org=org), "agents", **period)["agents"]
    elapsed = (datetime.now(UTC) - before).total_seconds()
    assert 600 <= row["on_call_seconds"] <= 600 + elapsed + 1
