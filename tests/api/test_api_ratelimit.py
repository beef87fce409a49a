"""Token buckets, failure backoffs, negative caches and shared reads, driven by an injected
clock (no sleeping)."""

import asyncio

import pytest

from snaketron.ratelimit import FailureBackoff, KeyedRateLimiter, RecentMisses, SharedReads, TokenBucket


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


def test_backoff_starts_at_the_allowance_and_doubles():
    clock = FakeClock()
    backoff = FailureBackoff(3, first_delay=60, max_delay=900, forget_seconds=3600, clock=clock)
    assert backoff.record_failure("alice") == 0
    assert backoff.record_failure("alice") == 0
    assert backoff.blocked_for("alice") == 0
    assert backoff.record_failure("alice") == 60  # the third failure earns the first wait
    assert backoff.blocked_for("alice") == pytest.approx(60)
    assert backoff.blocked_for("bob") == 0
    clock.now += 59
    assert backoff.blocked_for("alice") == pytest.approx(1)
    clock.now += 1
    assert backoff.blocked_for("alice") == 0
    assert [backoff.record_failure("alice") for _ in range(6)] == [120, 240, 480, 900, 900, 900]
    assert backoff.penalty("alice") == 900


def test_backoff_forgets_old_failures_and_clears_on_success():
    clock = FakeClock()
    backoff = FailureBackoff(2, first_delay=1, max_delay=10, forget_seconds=100, clock=clock)
    backoff.record_failure("alice")
    clock.now += 100  # the first failure no longer counts
    assert backoff.record_failure("alice") == 0
    backoff.clear("alice")
    assert backoff.record_failure("alice") == 0
    assert backoff.record_failure("alice") == 1


def test_backoff_memory_is_bounded():
    clock = FakeClock()
    backoff = FailureBackoff(5, first_delay=1, max_delay=10, forget_seconds=10, max_keys=100, clock=clock)
    for i in range(1000):
        backoff.record_failure(f"addr{i}")
    assert len(backoff) == 100
    clock.now += 10
    backoff.record_failure("fresh")
    assert len(backoff) == 1


def test_recent_misses_expire_and_stay_bounded():
    clock = FakeClock()
    misses = RecentMisses(2.0, max_keys=3, clock=clock)
    misses.add("ABCD")
    assert "ABCD" in misses and "WXYZ" not in misses
    clock.now += 2
    assert "ABCD" not in misses
    for key in "abcd":
        misses.add(key)
    assert "a" not in misses and "d" in misses


class Reads:
    """A read the test answers by hand, counting how often it was sent."""

    def __init__(self) -> None:
        self.sent = 0
        self._arrived = asyncio.Event()
        self._answer: asyncio.Future[str] | None = None

    async def __call__(self) -> str:
        self.sent += 1
        self._answer = asyncio.get_running_loop().create_future()
        self._arrived.set()
        return await self._answer

    async def next_read(self) -> asyncio.Future[str]:
        """The next read sent, once it is (to answer it)."""
        await self._arrived.wait()
        self._arrived.clear()
        assert self._answer is not None
        return self._answer


async def test_shared_reads_send_one_read_for_everyone_asking_at_once_and_within_the_ttl():
    clock = FakeClock()
    shared: SharedReads[str] = SharedReads(1.0, clock=clock)
    load = Reads()
    askers = [asyncio.ensure_future(shared.read("k", load)) for _ in range(5)]
    answer = await load.next_read()
    askers[0].cancel()  # an asker leaving cancels neither the read nor the others
    answer.set_result("v1")
    assert await asyncio.gather(*askers[1:]) == ["v1"] * 4
    assert load.sent == 1
    clock.now += 0.99
    assert await shared.read("k", load) == "v1" and load.sent == 1
    clock.now += 0.01  # the answer's second is over
    again = asyncio.ensure_future(shared.read("k", load))
    (await load.next_read()).set_result("v2")
    assert await again == "v2" and load.sent == 2


async def test_a_failed_read_reaches_every_asker_and_is_not_kept():
    shared: SharedReads[str] = SharedReads(1.0, clock=FakeClock())
    load = Reads()
    askers = [asyncio.ensure_future(shared.read("k", load)) for _ in range(3)]
    (await load.next_read()).set_exception(RuntimeError("database unavailable"))
    for outcome in await asyncio.gather(*askers, return_exceptions=True):
        assert isinstance(outcome, RuntimeError)
    again = asyncio.ensure_future(shared.read("k", load))
    (await load.next_read()).set_result("v")
    assert await again == "v" and load.sent == 2


async def test_shared_reads_ask_before_each_read_and_stay_bounded():
    clock = FakeClock()
    shared: SharedReads[str] = SharedReads(1.0, max_keys=3, clock=clock)
    admitted: list[str] = []

    def admit(key: str) -> None:
        if len(admitted) == 4:
            raise LookupError("no more reads now")
        admitted.append(key)

    async def load_value(key: str) -> str:
        return key.upper()

    for key in "abcd":
        assert await shared.read(key, lambda k=key: load_value(k), before_read=lambda k=key: admit(k)) == key.upper()
    assert len(shared) == 3  # "a", stored first, went
    # A kept answer costs no read, so no admission; a new key is refused before any read.
    assert await shared.read("d", lambda: load_value("x"), before_read=lambda: admit("d")) == "D"
    with pytest.raises(LookupError):
        await shared.read("e", lambda: load_value("e"), before_read=lambda: admit("e"))
    assert admitted == ["a", "b", "c", "d"]
    clock.now += 1.0
    await shared.read("f", lambda: load_value("f"))
    assert len(shared) == 1  # the expired answers were dropped as the clock passed them
