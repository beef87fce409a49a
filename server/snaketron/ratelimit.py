"""Rate limits and lockouts kept in this process's memory.

- `TokenBucket`: one budget (a connection's messages, say). Small and allocation-free
  on the hot path, because the WebSocket server calls it for every client frame.
- `KeyedRateLimiter`: one bucket per key (a client address), with bounded memory.
- `FailureBackoff`: counts failures per key (an account, an address) and, past an
  allowance, earns the key a wait that doubles with each further failure.
- `RecentMisses`: a short negative cache (keys just looked up and not found).
- `SharedReads`: a read's answer kept a second or so for everyone who asks the same,
  with one read in flight per key: a flood of one question costs one read a period.

All of it is per process: behind a load balancer with N servers an attacker gets N
budgets. That is the accepted trade-off for needing no shared store on the hot path.
Clocks are `time.monotonic` seconds unless a clock (or `now`) is injected, which is how
tests drive time without sleeping.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Clock = Callable[[], float]
V = TypeVar("V")

# Enough distinct addresses for a busy server; beyond it the least recently seen key is
# forgotten first, so a flood of spoofed keys costs the flooder, not our memory.
DEFAULT_MAX_KEYS = 100_000


def parse_ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").split("%", 1)[0])
    except ValueError:
        return None


def address_key(text: str | None) -> str:
    """The key per-address limits count a client address against.

    IPv4 addresses count exactly (127.0.0.2 and 127.0.0.3 are two clients). IPv4-mapped
    IPv6 addresses count as their IPv4 address, and other IPv6 addresses by their /64
    network: one subscriber usually holds a whole /64, so counting single addresses
    would hand them 2**64 budgets. Anything else (a Unix socket, say) shares one key,
    never the raw text, which could be long or chosen by the client.
    """
    addr = parse_ip(text)
    if addr is None:
        return "unknown"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


class TokenBucket:
    """`burst` tokens, refilled continuously at `rate_per_sec`; starts full."""

    __slots__ = ("_clock", "_stamp", "_tokens", "burst", "rate_per_sec")

    def __init__(
        self, rate_per_sec: float, burst: float, *, clock: Clock = time.monotonic, now: float | None = None
    ) -> None:
        if rate_per_sec <= 0 or burst <= 0:
            raise ValueError("rate_per_sec and burst must be positive")
        self.rate_per_sec = float(rate_per_sec)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock() if now is None else now

    def try_take(self, n: float = 1, now: float | None = None) -> bool:
        """Take `n` tokens if there are that many; False (taking nothing) otherwise."""
        if now is None:
            now = self._clock()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate_per_sec)
            self._stamp = now
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False

    def seconds_until(self, n: float = 1, now: float | None = None) -> float:
        """How long until `n` tokens are available (0 when they are now)."""
        if now is None:
            now = self._clock()
        tokens = min(self.burst, self._tokens + max(0.0, now - self._stamp) * self.rate_per_sec)
        return max(0.0, (n - tokens) / self.rate_per_sec)


class KeyedRateLimiter:
    """A `TokenBucket` per key, created on first use.

    A bucket left alone for `burst / rate` seconds is full again, exactly like a new
    one, so it is dropped then: memory follows the keys active recently, capped at
    `max_keys` (least recently used evicted first).
    """

    def __init__(
        self,
        rate_per_sec: float,
        burst: float,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Clock = time.monotonic,
    ) -> None:
        if rate_per_sec <= 0 or burst <= 0:
            raise ValueError("rate_per_sec and burst must be positive")
        self.rate_per_sec = float(rate_per_sec)
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        self._idle_expiry = self.burst / self.rate_per_sec
        # key -> (bucket, last use); ordered by last use, oldest first.
        self._buckets: OrderedDict[str, tuple[TokenBucket, float]] = OrderedDict()

    @classmethod
    def per_minute(cls, per_minute: int, **kwargs) -> KeyedRateLimiter:
        """`per_minute` requests a minute, all of which may come at once."""
        return cls(per_minute / 60.0, per_minute, **kwargs)

    def __len__(self) -> int:
        return len(self._buckets)

    def try_take(self, key: str, n: float = 1, now: float | None = None) -> bool:
        if now is None:
            now = self._clock()
        self._expire(now)
        entry = self._buckets.pop(key, None)
        bucket = entry[0] if entry else TokenBucket(self.rate_per_sec, self.burst, clock=self._clock, now=now)
        allowed = bucket.try_take(n, now)
        self._buckets[key] = (bucket, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def retry_after(self, key: str, n: float = 1, now: float | None = None) -> float:
        """Seconds until `key` may take `n` tokens (0 when it may now)."""
        if now is None:
            now = self._clock()
        entry = self._buckets.get(key)
        return entry[0].seconds_until(n, now) if entry else 0.0

    def _expire(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            _, (_, last_used) = next(iter(buckets.items()))
            if now - last_used < self._idle_expiry:
                break
            buckets.popitem(last=False)


class _Backoff:
    __slots__ = ("count", "last_failure")

    def __init__(self) -> None:
        self.count = 0
        self.last_failure = 0.0


class FailureBackoff:
    """Failures per key; the `free_failures`-th failure and every one after it cost a
    wait that doubles: `first_delay`, twice that, four times... up to `max_delay`.

    `penalty(key)` is the current wait; `blocked_for(key)` is what remains of it since
    the last failure. Callers either refuse until `blocked_for` is over (a backoff) or
    simply delay each attempt by `penalty` (a slow-down that never refuses anyone).
    A key without a failure for `forget_seconds` starts afresh; memory is capped at
    `max_keys` (least recently failed dropped first).
    """

    def __init__(
        self,
        free_failures: int,
        first_delay: float,
        max_delay: float,
        forget_seconds: float,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Clock = time.monotonic,
    ) -> None:
        if free_failures < 1 or first_delay <= 0 or max_delay < first_delay or forget_seconds < max_delay:
            raise ValueError("need free_failures >= 1 and 0 < first_delay <= max_delay <= forget_seconds")
        self.free_failures = free_failures
        self.first_delay = float(first_delay)
        self.max_delay = float(max_delay)
        self.forget_seconds = float(forget_seconds)
        self.max_keys = max_keys
        self._clock = clock
        self._keys: OrderedDict[str, _Backoff] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def penalty(self, key: str, now: float | None = None) -> float:
        """The wait the key's failures have earned so far (0 while they are free)."""
        entry = self._live(key, self._clock() if now is None else now)
        if entry is None or entry.count < self.free_failures:
            return 0.0
        doublings = min(entry.count - self.free_failures, 32)
        return min(self.max_delay, self.first_delay * 2.0**doublings)

    def blocked_for(self, key: str, now: float | None = None) -> float:
        """Seconds until the key's current wait is over (0 when it may try now)."""
        now = self._clock() if now is None else now
        entry = self._live(key, now)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_failure + self.penalty(key, now) - now)

    def record_failure(self, key: str, now: float | None = None) -> float:
        """Count one failure; returns the wait it earned (0 while failures are free)."""
        now = self._clock() if now is None else now
        self._expire(now)
        entry = self._keys.pop(key, None) or _Backoff()
        entry.count += 1
        entry.last_failure = now
        self._keys[key] = entry
        if len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return self.penalty(key, now)

    def clear(self, key: str) -> None:
        self._keys.pop(key, None)

    def _live(self, key: str, now: float) -> _Backoff | None:
        entry = self._keys.get(key)
        if entry is None or now - entry.last_failure >= self.forget_seconds:
            return None
        return entry

    def _expire(self, now: float) -> None:
        keys = self._keys
        while keys:
            entry = next(iter(keys.values()))
            if now - entry.last_failure < self.forget_seconds:
                break
            keys.popitem(last=False)


class RecentMisses:
    """Keys recently looked up and not found, remembered for `ttl_seconds` (a negative
    cache: a guesser repeating a code costs no read). Bounded at `max_keys`, oldest
    dropped first."""

    def __init__(self, ttl_seconds: float, *, max_keys: int = 10_000, clock: Clock = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._until: OrderedDict[str, float] = OrderedDict()

    def add(self, key: str) -> None:
        self._until.pop(key, None)
        self._until[key] = self._clock() + self.ttl_seconds
        if len(self._until) > self.max_keys:
            self._until.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        now = self._clock()
        while self._until:  # oldest first: drop what has run out
            oldest, until = next(iter(self._until.items()))
            if until > now:
                break
            del self._until[oldest]
        return key in self._until

    def discard(self, key: str) -> None:
        self._until.pop(key, None)


class SharedReads(Generic[V]):
    """Answers of a read, by key, kept `ttl_seconds` from when they arrived for everyone
    who asks the same: a flood of one question costs one read per `ttl_seconds`, and
    askers of a key with a read in flight wait for that read rather than sending their
    own. At most `max_keys` answers are kept (the oldest dropped first). A failed read
    is not kept: its askers get its exception and the next asker reads again.

    `before_read`, when given to `read`, is called only when a read is about to be
    sent (a cached or pending answer costs nothing): a caller bounding its reads of
    keys not cached raises from it to refuse."""

    def __init__(self, ttl_seconds: float, *, max_keys: int = 1_000, clock: Clock = time.monotonic) -> None:
        if ttl_seconds <= 0 or max_keys < 1:
            raise ValueError("need ttl_seconds > 0 and max_keys >= 1")
        self.ttl_seconds = ttl_seconds
        self.max_keys = max_keys
        self._clock = clock
        # key -> (when the answer arrived, the answer); oldest first.
        self._answers: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[V]] = {}

    def __len__(self) -> int:
        return len(self._answers)

    async def read(
        self, key: str, load: Callable[[], Awaitable[V]], *, before_read: Callable[[], None] | None = None
    ) -> V:
        now = self._clock()
        self._expire(now)
        held = self._answers.get(key)
        if held is not None and 0 <= now - held[0] < self.ttl_seconds:
            return held[1]
        pending = self._pending.get(key)
        if pending is None:
            if before_read is not None:
                before_read()
            pending = asyncio.ensure_future(self._load(key, load))
            # Retrieved even when every asker went away meanwhile (no "never retrieved").
            pending.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._pending[key] = pending
        # One asker cancelled (its client left) cancels neither the read nor the others.
        return await asyncio.shield(pending)

    async def _load(self, key: str, load: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await load()
        finally:
            del self._pending[key]
        self._answers.pop(key, None)
        self._answers[key] = (self._clock(), value)
        while len(self._answers) > self.max_keys:
            self._answers.popitem(last=False)
        return value

    def _expire(self, now: float) -> None:
        answers = self._answers
        while answers:
            arrived, _ = next(iter(answers.values()))
            if now - arrived < self.ttl_seconds:
                break
            answers.popitem(last=False)
