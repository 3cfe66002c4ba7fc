"""The in-process failure counter used in the embedded mode."""

from crm.auth.ratelimit import MemoryFailureCounter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_expire_after_the_window():
    clock = Clock()
    counter = MemoryFailureCounter(window_seconds=60, clock=clock)
    for _ in range(3):
        counter.record_failure("user:a")
    assert counter.failures("user:a") == 3
    clock.now += 61
    assert counter.failures("user:a") == 0


def test_keys_are_counted_separately_and_reset():
    counter = MemoryFailureCounter(window_seconds=60)
    counter.record_failure("user:a")
    counter.record_failure("user:b")
    counter.reset("user:a")
    assert counter.failures("user:a") == 0
    assert counter.failures("user:b") == 1
