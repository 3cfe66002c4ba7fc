"""A telesales day end to end: ten agents make 300 calls through real Socket.IO consoles against
a live server (the simulated carrier 100× faster, so the day's calls take seconds; the idle time
between calls is left out), with reloads, network drops and drops longer than the reconnect
grace period injected. At the end of the day every call has an outcome, every promised callback
is on its agent's lists, leads nobody reached are still new, and each agent's own figures (what
the console shows, in the browser too) equal the agents report's.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.live_server import Console, LiveServer, serve

pytestmark = pytest.mark.e2e
AGENTS = [f"shift{n:02d}" for n in range(1, 11)]
CALLS_EACH = 30
LEADS_EACH = 12  # each lead called two or three times: under the three-a-day cap
GRACE = 1.0
SEED = 8


@pytest.fixture(scope="module")
def day_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "SIM_TIME_SCALE": "0.01",  # ring 20-80 ms, talk 0.2-1.8 s, no answer after 0.3 s
        "SIM_SEED": str(SEED),
        "CONSOLE_GRACE_SECONDS": str(GRACE),
    }
    folder = tmp_path_factory.mktemp("shift")
    with serve(folder, AGENTS, leads_each=LEADS_EACH, **env) as live:
        for number in ("01066660001", "01066660002"):  # 150 calls a day each, by default
            added = live.api("manager", "POST", "/caller-ids", json={"number": number})
            assert added.status_code in (201, 409), added.text
        yield live


@dataclass
class Tally:
    """What the test saw, to compare with what the server counts."""

    calls: int = 0
    connected: int = 0
    promised: set[tuple[int, str]] = field(default_factory=set)  # (lead id, due at, UTC ISO)
    kept: set[tuple[int, str]] = field(default_factory=set)
    reached_leads: set[int] = field(default_factory=set)
    faults: Counter = field(default_factory=Counter)
    awaiting_seen: int = 0


def drop(console: Console) -> None:
    """The network goes: the connection dies without a goodbye."""
    console.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)


class Desk:
    """One agent's console through the day, reconnecting as a browser would."""

    def __init__(self, live: LiveServer, username: str, rng: random.Random) -> None:
        self.live, self.username, self.rng = live, username, rng
        self.console = live.console(username)
        self.pending: list[str] = []  # faults waiting for an answered call to hit
        assert self.console.call("agent_state", {"state": "available"}) == {"ok": True}

    def reconnect(self, away: float, how: str) -> dict:
        if how == "reload":
            self.console.close()  # the page goes: its socket closes cleanly
        else:
            drop(self.console)
        time.sleep(away)
        self.console = self.live.console(self.username)
        snapshot = self.console.call("resume", {})
        assert snapshot["ok"], snapshot
        return snapshot

    def ended(self, call_id: int, fault: str | None, tally: Tally) -> dict:
        """The call's end as the console learns it: live, or from the snapshot on coming back."""
        answered = self.console.wait_for(
            "call_state",
            lambda d: d["call_id"] == call_id and d["state"] in ("answered", "ended"),
        )
        if fault:
            self.pending.append(fault)
        if self.pending and answered["state"] == "answered":
            fault = self.pending.pop(0)
            away = GRACE * 1.6 if fault == "long_drop" else 0.2
            snapshot = self.reconnect(away, "reload" if fault == "reload" else "drop")
            tally.faults[fault] += 1
            if snapshot["call"] is not None:
                assert fault != "long_drop", "a call outlived the grace period"
                assert snapshot["call"]["call_id"] == call_id
                assert snapshot["agent_state"] == "on_call"
            else:
                # it ended while the console was away: it waits for its outcome
                [waiting] = [c for c in snapshot["awaiting_outcome"] if c["call_id"] == call_id]
                if fault != "long_drop":  # back within the grace period: the callee hung up
                    assert waiting.get("end_reason") != "console_lost", waiting
                tally.awaiting_seen += 1
                return waiting
        if answered["state"] == "answered":
            time.sleep(self.rng.uniform(0.3, 2.0))  # talk, then hang up unless they did
            assert self.console.call("hangup", {"call_id": call_id})["ok"]
        return self.console.wait_for(
            "call_state", lambda d: d["call_id"] == call_id and d["state"] == "ended"
        )

    def outcome(self, lead_id: int, end: dict, tally: Tally) -> dict:
        answered = end.get("duration_s") is not None
        data: dict = {"call_id": end["call_id"]}
        if not answered:
            reason = end.get("end_reason")
            data["disposition"] = reason if reason in ("busy", "invalid_number") else "no_answer"
            return data
        tally.reached_leads.add(lead_id)
        data["disposition"] = self.rng.choice(["callback", "interested", "not_interested"])
        open_ = self.live.api(self.username, "GET", f"/leads/{lead_id}/scheduled-followups")
        if open_.json() and self.rng.random() < 0.3:  # the promised callback, kept now
            kept = open_.json()[0]
            data["replaces"] = [kept["id"]]
            tally.kept.add((lead_id, utc(kept["due_at"])))
        if data["disposition"] == "callback":
            due = datetime.now(UTC) + timedelta(minutes=self.rng.randrange(30, 600))
            data["next_followup_at"] = due.isoformat()
            tally.promised.add((lead_id, utc(data["next_followup_at"])))
        return data

    def wechat(self, lead_id: int, tally: Tally) -> None:
        """A message on another channel with a time of its own: a promise beside the others."""
        due = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
        body = {"channel": "wechat", "content": "发了材料清单", "reached": False}
        sent = self.live.api(
            self.username,
            "POST",
            f"/leads/{lead_id}/followups",
            json={**body, "next_followup_at": due},
        )
        assert sent.status_code == 201, sent.text
        tally.promised.add((lead_id, utc(due)))

    def work(self, leads: list[int], faults: dict[int, str], tally: Tally) -> None:
        for n in range(CALLS_EACH):
            lead_id = leads[n % len(leads)]
            if n == CALLS_EACH // 2:  # lunch
                assert self.console.call("agent_state", {"state": "break"})["ok"]
                assert self.console.call("agent_state", {"state": "available"})["ok"]
            dialed = self.console.call("dial", {"lead_id": lead_id})
            assert dialed["ok"], dialed
            tally.calls += 1
            end = self.ended(dialed["call_id"], faults.get(n), tally)
            tally.connected += end.get("duration_s") is not None
            saved = self.console.call("disposition", self.outcome(lead_id, end, tally))
            assert saved["ok"], saved
            if n % 10 == 3:
                self.wechat(lead_id, tally)
        assert self.pending == [], "a planned fault never met an answered call"
        self.console.close()


def utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).isoformat(timespec="seconds")


def own_leads(live: LiveServer, username: str) -> list[int]:
    page = live.api(username, "GET", "/leads", params={"pool": "mine", "per_page": 50}).json()
    return sorted(lead["id"] for lead in page["items"])


def planned_faults(rng: random.Random, index: int) -> dict[int, str]:
    """Where the day goes wrong for this agent: a reload and a drop for everyone, and for
    three of them a drop longer than the grace period."""
    calls = rng.sample(range(2, CALLS_EACH - 10), 3)  # each hits the next answered call
    faults = {calls[0]: "reload", calls[1]: "drop"}
    if index < 3:
        faults[calls[2]] = "long_drop"
    return faults


@pytest.fixture(scope="module")
def the_day(day_server: LiveServer) -> dict[str, Tally]:
    tallies = {name: Tally() for name in AGENTS}
    errors: list[BaseException] = []

    def shift(index: int, name: str) -> None:
        rng = random.Random(f"{SEED}:{name}")
        try:
            desk = Desk(day_server, name, rng)
            desk.work(own_leads(day_server, name), planned_faults(rng, index), tallies[name])
        except BaseException as exc:  # reported from the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=shift, args=(i, n)) for i, n in enumerate(AGENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    if errors:
        raise errors[0]
    assert sum(t.calls for t in tallies.values()) == len(AGENTS) * CALLS_EACH == 300
    return tallies


def manager_calls(live: LiveServer) -> list[dict]:
    calls, page = [], 1
    while True:
        got = live.api("manager", "GET", "/calls", params={"page": page, "per_page": 200}).json()
        calls += got["items"]
        if page * 200 >= got["total"]:
            return calls
        page += 1


def test_every_call_of_the_day_ends_with_an_outcome(day_server, the_day):
    names = {row["user_id"]: row["display_name"] for row in agents_today(day_server)}
    calls = [c for c in manager_calls(day_server) if names.get(c["agent_id"]) in AGENTS]
    assert len(calls) == 300
    assert all(c["state"] == "ended" for c in calls)
    assert [c for c in calls if c["disposition"] is None] == []
    # the drops past the grace period ended their calls; reloads and short drops did not
    lost = [c for c in calls if c["end_reason"] == "console_lost"]
    long_drops = sum(t.faults["long_drop"] for t in the_day.values())
    assert long_drops == 3 and len(lost) <= long_drops
    assert sum(t.awaiting_seen for t in the_day.values()) >= long_drops
    assert sum(t.faults["reload"] + t.faults["drop"] for t in the_day.values()) == 20
    for name in AGENTS:
        waiting = day_server.api(name, "GET", "/calls/awaiting-outcome").json()
        assert waiting["total"] == 0


def test_every_promised_callback_is_on_the_agents_lists(day_server, the_day):
    for name, tally in the_day.items():
        listed = set()
        for when in ("overdue", "today", "upcoming"):
            page = day_server.api(
                name, "GET", "/followups/scheduled", params={"when": when, "per_page": 200}
            ).json()
            listed |= {(p["lead_id"], utc(p["due_at"])) for p in page["items"]}
        assert listed == tally.promised - tally.kept, name
        counts = day_server.api(name, "GET", "/followups/scheduled/counts").json()
        assert sum(counts.values()) == len(listed)


def test_only_leads_somebody_reached_left_new(day_server, the_day):
    for name, tally in the_day.items():
        leads = day_server.api(name, "GET", "/leads", params={"pool": "mine", "per_page": 50})
        for lead in leads.json()["items"]:
            reached = lead["id"] in tally.reached_leads
            assert (lead["stage"] != "new") == reached, (name, lead["id"], lead["stage"])


def agents_today(live: LiveServer) -> list[dict]:
    report = live.api("manager", "GET", "/reports/agents", params={"period": "today"})
    assert report.status_code == 200, report.text
    return report.json()["agents"]


def test_each_agents_own_figures_equal_the_agents_report(day_server, the_day):
    rows = {row["display_name"]: row for row in agents_today(day_server)}
    for name, tally in the_day.items():
        mine = day_server.api(name, "GET", "/reports/my-day").json()
        row = rows[name]
        figures = (mine["calls"], mine["connected"], mine["talk_seconds"])
        assert figures == (row["calls"], row["connected"], row["talk_seconds"]), name
        assert (mine["calls"], mine["connected"]) == (tally.calls, tally.connected), name
    assert sum(r["talk_seconds"] for n, r in rows.items() if n in AGENTS) > 0


def test_the_console_in_the_browser_shows_the_reports_figures(day_server, the_day, browser):
    """An agent opens the console at the end of the day: its bar shows the report's figures."""
    row = next(r for r in agents_today(day_server) if r["display_name"] == AGENTS[0])
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{day_server.base}/login")
        page.fill("input[name=username]", AGENTS[0])
        page.fill("input[name=password]", "demo-pass-2026")
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_selector("#my-day:not([hidden])")
        assert page.get_by_test_id("my-calls").inner_text() == str(row["calls"])
        assert page.get_by_test_id("my-connected").inner_text() == str(row["connected"])
        assert page.locator("#my-day").get_attribute("data-talk-seconds") == str(
            row["talk_seconds"]
        )
        assert page.locator("[data-list=awaiting] .count").inner_text() == "0"
    finally:
        context.close()
