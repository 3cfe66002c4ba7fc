"""The login failure counter shared through Redis by every web process."""

from __future__ import annotations

import secrets

from crm.auth.ratelimit import RedisFailureCounter
from tests.services import redis_or_skip


def test_failures_are_shared_between_processes_through_redis():
    redis = redis_or_skip()
    key = f"user:test-{secrets.token_hex(4)}"
    web1 = RedisFailureCounter(redis, window_seconds=60)
    web2 = RedisFailureCounter(redis, window_seconds=60)
    web1.record_failure(key)
    web2.record_failure(key)
    assert web1.failures(key) == 2
    web2.reset(key)
    assert web1.failures(key) == 0


def test_the_window_starts_at_the_first_failure():
    redis = redis_or_skip()
    key = f"user:test-{secrets.token_hex(4)}"
    counter = RedisFailureCounter(redis, window_seconds=60)
    counter.record_failure(key)
    first_ttl = redis.ttl("loanline:fail:" + key)
    counter.record_failure(key)
    assert 0 < redis.ttl("loanline:fail:" + key) <= first_ttl
    counter.reset(key)
