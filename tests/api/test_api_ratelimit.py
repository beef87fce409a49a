"""Token buckets and failure lockouts, driven by an injected clock (no sleeping)."""

import pytest

from snaketron.ratelimit import FailureLockout, KeyedRateLimiter, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_burst_then_refills_at_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate_per_sec=2, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    assert bucket.seconds_until() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.try_take()
    assert not bucket.try_take()
    clock.now += 100  # refill is capped at the burst
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]


def test_bucket_take_many_and_explicit_now():
    bucket = TokenBucket(rate_per_sec=10, burst=10, now=0.0)
    assert not bucket.try_take(11, now=0.0)  # refused takes nothing
    assert bucket.try_take(10, now=0.0)
    assert not bucket.try_take(1, now=0.05)
    assert bucket.try_take(1, now=0.1)
    # A clock that steps back (mixed sources) never mints tokens.
    assert not bucket.try_take(1, now=-5.0)


def test_bucket_rejects_nonsense():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)


def test_keyed_limiter_is_per_key():
    clock = FakeClock()
    limiter = KeyedRateLimiter.per_minute(2, clock=clock)
    assert limiter.try_take("10.0.0.1")
    assert limiter.try_take("10.0.0.1")
    assert not limiter.try_take("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == pytest.approx(30.0)
    assert limiter.try_take("10.0.0.2")
    clock.now += 30
    assert limiter.try_take("10.0.0.1")
    assert not limiter.try_take("10.0.0.1")


def test_keyed_limiter_forgets_idle_keys_and_caps_memory():
    clock = FakeClock()
    limiter = KeyedRateLimiter(rate_per_sec=1, burst=5, max_keys=3, clock=clock)
    for key in "abc":
        limiter.try_take(key)
    assert len(limiter) == 3
    limiter.try_take("d")  # over the cap: "a", least recently used, goes
    assert len(limiter) == 3
    assert limiter.retry_after("a") == 0.0
    clock.now += 5  # every bucket is full again, as good as new
    limiter.try_take("e")
    assert len(limiter) == 1


def test_lockout_after_max_failures_for_its_duration():
    clock = FakeClock()
    lockout = FailureLockout(max_failures=3, lockout_seconds=60, clock=clock)
    assert not lockout.record_failure("alice")
    assert not lockout.record_failure("alice")
    assert lockout.locked_for("alice") == 0
    assert lockout.record_failure("alice")
    assert lockout.locked_for("alice") == pytest.approx(60)
    assert lockout.locked_for("bob") == 0
    clock.now += 59
    assert lockout.locked_for("alice") == pytest.approx(1)
    clock.now += 1
    assert lockout.locked_for("alice") == 0
    # After the lock the count starts over.
    assert not lockout.record_failure("alice")


def test_lockout_forgets_old_failures_and_clears_on_success():
    clock = FakeClock()
    lockout = FailureLockout(max_failures=2, lockout_seconds=10, clock=clock)
    lockout.record_failure("alice")
    clock.now += 10  # the first failure is out of the window
    assert not lockout.record_failure("alice")
    lockout.clear("alice")
    assert not lockout.record_failure("alice")
    assert lockout.record_failure("alice")


def test_lockout_memory_is_bounded():
    clock = FakeClock()
    lockout = FailureLockout(max_failures=5, lockout_seconds=10, max_keys=100, clock=clock)
    for i in range(1000):
        lockout.record_failure(f"addr{i}")
    assert len(lockout) == 100
    clock.now += 10
    lockout.record_failure("fresh")
    assert len(lockout) == 1
