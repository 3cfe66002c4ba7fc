"""The simulated carrier: outcomes fixed by the seed, rates honoured, nothing after the end.

A time scale of 1/10,000 runs its seconds as 0.1 ms: a call that rings out (30 s) takes 3 ms."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import replace

import pytest

from crm.config import Settings
from crm.extensions import build_gateway
from dialer.gateways.base import CallEvent, EventSink
from dialer.gateways.simulated import CarrierProfile, SimulatedCarrier
from tests.live_server import seed_where_calls_ring

FAST = CarrierProfile(time_scale=1e-4)


class Recorder:
    """The sink a dialer would pass: keeps each call's events, tells when all have ended."""

    def __init__(self) -> None:
        self.events: dict[str, list[CallEvent]] = defaultdict(list)
        self._changed = threading.Condition()

    def __call__(self, event: CallEvent) -> None:
        with self._changed:
            self.events[event.call_ref].append(event)
            self._changed.notify_all()

    def wait_ended(self, refs: list[str], timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not all(self.ended(ref) for ref in refs):
                left = deadline - time.monotonic()
                assert left > 0, f"calls still open: {dict(self.events)}"
                self._changed.wait(left)

    def ended(self, ref: str) -> bool:
        return any(e.state == "ended" for e in self.events[ref])

    def outcome(self, ref: str) -> tuple[str, ...]:
        """The states in order, the end as its reason: ("ringing", "answered", "callee_hangup")."""
        return tuple(e.end_reason if e.state == "ended" else e.state for e in self.events[ref])


def place(carrier: SimulatedCarrier, sink: EventSink, n: int, privacy: bool = False) -> list[str]:
    refs = [str(i) for i in range(1, n + 1)]
    for ref in refs:
        carrier.originate(
            call_ref=ref,
            caller_id="01088880001",
            callee_e164="+8613800000000",
            agent_ref="agent-1",
            privacy=privacy,
            sink=sink,
        )
    return refs


def outcomes(profile: CarrierProfile, calls: int = 40) -> list[tuple[str, ...]]:
    carrier, sink = SimulatedCarrier(profile), Recorder()
    refs = place(carrier, sink, calls)
    sink.wait_ended(refs)
    return [sink.outcome(ref) for ref in refs]


def test_the_same_seed_gives_the_same_outcomes_in_the_same_order():
    first = outcomes(replace(FAST, seed=7))
    assert outcomes(replace(FAST, seed=7)) == first
    assert outcomes(replace(FAST, seed=8)) != first
    # a realistic mix: some answered, some not, some busy or invalid
    ends = {outcome[-1] for outcome in first}
    assert {"callee_hangup", "no_answer"} <= ends and ends & {"busy", "invalid_number"}


def test_an_answer_rate_of_zero_never_answers():
    for outcome in outcomes(replace(FAST, answer_rate=0.0, seed=3), calls=60):
        assert "answered" not in outcome
        assert outcome[-1] in {"no_answer", "busy", "invalid_number"}


def test_every_call_is_answered_at_rate_one_unless_busy_or_invalid():
    for outcome in outcomes(replace(FAST, answer_rate=1.0, busy_rate=0.0, invalid_rate=0.0)):
        assert outcome == ("ringing", "answered", "callee_hangup")


@pytest.mark.parametrize(
    ("rates", "reason"),
    [({"busy_rate": 1.0, "invalid_rate": 0.0}, "busy"), ({"invalid_rate": 1.0}, "invalid_number")],
)
def test_busy_and_invalid_numbers_end_without_ringing(rates, reason):
    assert set(outcomes(replace(FAST, **rates), calls=10)) == {(reason,)}


class ManualClock:
    """The carrier's clock, moved by the test: nothing is due until it says so, however slow
    the machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_hangup_ends_the_call_once_and_nothing_follows():
    # ringing at 0.3, answered at 1, callee hangs up at 11 (carrier seconds)
    profile = replace(
        FAST,
        answer_rate=1.0,
        busy_rate=0.0,
        invalid_rate=0.0,
        ring_seconds=(1, 1),
        talk_seconds=(10, 10),
        time_scale=1,
    )
    clock = ManualClock()
    carrier, sink = SimulatedCarrier(profile, clock, shards=1), Recorder()
    [ref] = place(carrier, sink, 1)
    carrier.hangup(ref)  # before it even rang: due at once, the ringing is not yet
    carrier.hangup(ref)
    sink.wait_ended([ref])
    # one shard runs every call's steps in time order: once a call placed after the first one's
    # last step has ended, every step planned for the first one has had its turn
    clock.now = 12.0
    carrier.originate(
        call_ref="later",
        caller_id="01088880001",
        callee_e164="+8613800000000",
        agent_ref="agent-1",
        privacy=False,
        sink=sink,
    )
    clock.now = 100.0
    sink.wait_ended(["later"])
    assert sink.outcome(ref) == ("agent_hangup",)


def test_a_hangup_after_the_callee_left_reports_nothing():
    profile = replace(FAST, answer_rate=1.0, busy_rate=0.0, invalid_rate=0.0)
    carrier, sink = SimulatedCarrier(profile), Recorder()
    refs = place(carrier, sink, 3)
    sink.wait_ended(refs)
    for ref in refs:
        carrier.hangup(ref)
    assert [sink.outcome(ref)[-1] for ref in refs] == ["callee_hangup"] * 3
    assert all(len(sink.events[ref]) == 3 for ref in refs)


def test_events_arrive_in_order_with_increasing_times():
    for ref, events in _events(replace(FAST, seed=11)).items():
        stamps = [e.at for e in events]
        assert stamps == sorted(stamps), ref
        assert [e.state for e in events][-1] == "ended"


def test_privacy_numbers_are_middle_numbers_never_the_callee():
    carrier, sink = SimulatedCarrier(FAST), Recorder()
    placed = carrier.originate(
        call_ref="1",
        caller_id="01088880001",
        callee_e164="+8613800000000",
        agent_ref="agent-1",
        privacy=True,
        sink=sink,
    )
    plain = carrier.originate(
        call_ref="2",
        caller_id="01088880001",
        callee_e164="+8613800000000",
        agent_ref="agent-1",
        privacy=False,
        sink=sink,
    )
    assert placed.privacy_number.startswith("+86170") and "13800000000" not in placed.privacy_number
    assert plain.privacy_number is None
    assert placed.gateway_call_id != plain.gateway_call_id
    sink.wait_ended(["1", "2"])


def test_each_call_keeps_to_one_thread_and_calls_spread_over_the_shards():
    threads: dict[str, set[str]] = defaultdict(set)
    sink = Recorder()

    def on_event(event: CallEvent) -> None:
        threads[event.call_ref].add(threading.current_thread().name)
        sink(event)

    refs = place(SimulatedCarrier(replace(FAST, seed=5), shards=4), on_event, 12)
    sink.wait_ended(refs)
    assert all(len(threads[ref]) == 1 for ref in refs)
    assert len(set().union(*threads.values())) == 4


def test_a_call_whose_events_are_slow_to_handle_holds_up_no_call_of_another_shard():
    """A sink stuck on call 1 (a slow transaction) while call 2, on the other shard, ends."""
    profile = replace(FAST, answer_rate=0.0, busy_rate=0.0, invalid_rate=0.0)
    carrier, sink = SimulatedCarrier(profile, shards=2), Recorder()
    second_ended = threading.Event()
    waited: list[bool] = []

    def on_event(event: CallEvent) -> None:
        if event.call_ref == "1" and not waited:
            waited.append(second_ended.wait(timeout=5))
        sink(event)
        if event.call_ref == "2" and event.state == "ended":
            second_ended.set()

    sink.wait_ended(place(carrier, on_event, 2), timeout=10)
    assert waited == [True]


@pytest.mark.parametrize(
    "bad",
    [
        {"busy_rate": 1.5},
        {"answer_rate": -0.1},
        {"ring_seconds": (8.0, 2.0)},
        {"talk_seconds": (-1.0, 5.0)},
    ],
)
def test_an_impossible_profile_is_refused(bad):
    with pytest.raises(ValueError):
        CarrierProfile(**bad)


def carrier_from_env(tmp_path, **env: str) -> CarrierProfile:
    env |= {"LOANLINE_INSTANCE": str(tmp_path), "SECRET_KEY": "k" * 48, "PII_KEYS": "{}"}
    return build_gateway(Settings.from_env(env)).profile


def test_the_carrier_is_configured_from_the_environment(tmp_path):
    profile = carrier_from_env(
        tmp_path,
        SIM_BUSY_RATE="0.2",
        SIM_INVALID_RATE="0",
        SIM_RING_SECONDS="1-3",
        SIM_TALK_SECONDS="5",
    )
    assert (profile.busy_rate, profile.invalid_rate) == (0.2, 0.0)
    assert (profile.ring_seconds, profile.talk_seconds) == ((1.0, 3.0), (5.0, 5.0))
    assert carrier_from_env(tmp_path) == CarrierProfile()


@pytest.mark.parametrize("ring", ["fast", "8-2", "-3", "1-2-3"])
def test_a_carrier_duration_that_makes_no_sense_stops_the_server_starting(tmp_path, ring):
    with pytest.raises(ValueError):
        carrier_from_env(tmp_path, SIM_RING_SECONDS=ring)


def test_the_live_tests_seed_helper_matches_the_carrier():
    """tests.live_server.seed_where_calls_ring predicts outcomes from the seed alone."""
    seed = seed_where_calls_ring(20)
    for outcome in outcomes(replace(FAST, seed=seed, answer_rate=0.0), calls=20):
        assert outcome == ("ringing", "no_answer")


def _events(profile: CarrierProfile, calls: int = 20) -> dict[str, list[CallEvent]]:
    carrier, sink = SimulatedCarrier(profile), Recorder()
    sink.wait_ended(place(carrier, sink, calls))
    return dict(sink.events)
