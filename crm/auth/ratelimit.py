"""Counting failed attempts in a fixed window: Redis when configured (shared by every web
process), process memory in the embedded single-process mode."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError


class FailureCounter(Protocol):
    def failures(self, key: str) -> int: ...
    def record_failure(self, key: str) -> int: ...
    def reset(self, key: str) -> None: ...


class MemoryFailureCounter:
    def __init__(self, window_seconds: int, clock=time.monotonic) -> None:
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, int]] = {}

    def failures(self, key: str) -> int:
        with self._lock:
            return self._live(key)[1]

    def record_failure(self, key: str) -> int:
        with self._lock:
            started, count = self._live(key)
            self._buckets[key] = (started, count + 1)
            return count + 1

    def reset(self, key: str) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def _live(self, key: str) -> tuple[float, int]:
        now = self._clock()
        started, count = self._buckets.get(key, (now, 0))
        if now - started >= self._window:
            return now, 0
        return started, count


class RedisFailureCounter:
    """Shared counts; while Redis is unreachable each process counts on its own, so logins
    keep working and guessing stays limited (per process) instead of failing open or erroring."""

    def __init__(self, redis: Redis, window_seconds: int, prefix: str = "loanline:fail:") -> None:
        self._redis = redis
        self._window = window_seconds
        self._prefix = prefix
        self._fallback = MemoryFailureCounter(window_seconds)

    def failures(self, key: str) -> int:
        try:
            return int(self._redis.get(self._prefix + key) or 0)
        except RedisError:
            return self._fallback.failures(key)

    def record_failure(self, key: str) -> int:
        try:
            pipe = self._redis.pipeline()
            pipe.incr(self._prefix + key)
            # NX: the window starts at the first failure and is not extended by later ones
            pipe.expire(self._prefix + key, self._window, nx=True)
            count, _ = pipe.execute()
            return int(count)
        except RedisError:
            return self._fallback.record_failure(key)

    def reset(self, key: str) -> None:
        self._fallback.reset(key)
        with contextlib.suppress(RedisError):
            self._redis.delete(self._prefix + key)
