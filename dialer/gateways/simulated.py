"""The built-in simulated carrier: rings, answers, gets busy or fails like a real one, so the whole
console works on a laptop. Deterministic for a given seed and call order."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dialer.gateways.base import CallEvent, EventSink, Originated

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CarrierProfile:
    answer_rate: float = 0.6
    busy_rate: float = 0.1
    invalid_rate: float = 0.03
    ring_seconds: tuple[float, float] = (2.0, 8.0)
    talk_seconds: tuple[float, float] = (20.0, 180.0)
    # callees who never pick up ring until the carrier gives up
    no_answer_after_seconds: float = 30.0
    seed: int = 2026
    # a time scale below 1 speeds the whole carrier up (tests, benchmarks)
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("answer_rate", "busy_rate", "invalid_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("ring_seconds", "talk_seconds"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be a range 0 <= min <= max")


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class _Timeline:
    """One thread running the steps given to it in time order."""

    def __init__(self, clock: Callable[[], float], name: str) -> None:
        self._clock, self._name = clock, name
        self._seq = itertools.count()
        self._due: list[_Due] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        due = _Due(self._clock() + seconds, next(self._seq), action)
        with self._cv:
            heapq.heappush(self._due, due)
            self._cv.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._due or self._due[0].at > self._clock():
                    self._cv.wait(None if not self._due else self._due[0].at - self._clock())
                due = heapq.heappop(self._due)
            try:
                due.action()
            except Exception:  # one failed step must not stop the calls behind it for good
                log.exception("%s: a call step failed", self._name)


class SimulatedCarrier:
    name = "simulated"
    supports_privacy_numbers = True

    def __init__(
        self,
        profile: CarrierProfile | None = None,
        clock: Callable[[], float] = time.monotonic,
        shards: int = 4,
    ) -> None:
        self.profile = profile or CarrierProfile()
        self._ids = itertools.count(1)
        self._live: dict[str, EventSink] = {}
        # Each event runs the dialer's transaction and pushes on the thread that emits it: one
        # thread backs up above ~30 calls/s. A call always goes to the same shard, so its own
        # events (hang-ups included) keep their order.
        self._shards = [_Timeline(clock, f"carrier-{n}") for n in range(shards)]
        self._middle_numbers = itertools.cycle(f"+86170{n:08d}" for n in range(10_000, 10_100))

    def originate(
        self,
        *,
        call_ref: str,
        caller_id: str,
        callee_e164: str,
        agent_ref: str,
        privacy: bool,
        sink: EventSink,
    ) -> Originated:
        number = next(self._ids)
        rng = random.Random(f"{self.profile.seed}:{number}")
        self._live[call_ref] = sink
        self._plan(call_ref, rng)
        return Originated(f"sim-{number}", next(self._middle_numbers) if privacy else None)

    def hangup(self, call_ref: str) -> None:
        self._after(call_ref, 0, lambda: self._end(call_ref, "agent_hangup"))

    def _plan(self, call_id: str, rng: random.Random) -> None:
        p = self.profile
        roll = rng.random()
        if roll < p.invalid_rate:
            self._after(call_id, 0.5, lambda: self._end(call_id, "invalid_number"))
            return
        if roll < p.invalid_rate + p.busy_rate:
            self._after(call_id, 1.0, lambda: self._end(call_id, "busy"))
            return
        ring = rng.uniform(*p.ring_seconds)
        self._after(call_id, 0.3, lambda: self._emit(call_id, "ringing"))
        if rng.random() < p.answer_rate:
            talk = rng.uniform(*p.talk_seconds)
            self._after(call_id, ring, lambda: self._emit(call_id, "answered"))
            self._after(call_id, ring + talk, lambda: self._end(call_id, "callee_hangup"))
        else:
            self._after(call_id, p.no_answer_after_seconds, lambda: self._end(call_id, "no_answer"))

    def _emit(self, call_id: str, state: str, end_reason: str | None = None) -> None:
        sink = self._live.get(call_id)
        if sink is not None:
            sink(CallEvent(call_id, state, datetime.now(UTC), end_reason))  # type: ignore[arg-type]

    def _end(self, call_id: str, reason: str) -> None:
        # the first end wins: a hang-up after the callee left (or twice) reports nothing more
        sink = self._live.pop(call_id, None)
        if sink is not None:
            sink(CallEvent(call_id, "ended", datetime.now(UTC), reason))

    def _after(self, call_id: str, seconds: float, action: Callable[[], None]) -> None:
        key = int(call_id) if call_id.isdigit() else zlib.crc32(call_id.encode())
        self._shards[key % len(self._shards)].after(seconds * self.profile.time_scale, action)
