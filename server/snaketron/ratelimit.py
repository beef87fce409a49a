"""Rate limits and lockouts kept in this process's memory.

- `TokenBucket`: one budget (a connection's messages, say). Small and allocation-free
  on the hot path, because the WebSocket server calls it for every client frame.
- `KeyedRateLimiter`: one bucket per key (a client address), with bounded memory.
- `FailureLockout`: counts failures per key (an account, an address) and locks the key
  for a while once there were too many.

All of it is per process: behind a load balancer with N servers an attacker gets N
budgets. That is the accepted trade-off for needing no shared store on the hot path.
Clocks are `time.monotonic` seconds unless a clock (or `now`) is injected, which is how
tests drive time without sleeping.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

Clock = Callable[[], float]

# Enough distinct addresses for a busy server; beyond it the least recently seen key is
# forgotten first, so a flood of spoofed keys costs the flooder, not our memory.
DEFAULT_MAX_KEYS = 100_000


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


class _Failures:
    __slots__ = ("count", "last_seen", "locked_until", "window_start")

    def __init__(self, now: float) -> None:
        self.count = 0
        self.window_start = now
        self.locked_until = 0.0
        self.last_seen = now


class FailureLockout:
    """Locks a key for `lockout_seconds` after `max_failures` failures.

    Failures older than `lockout_seconds` (counted from the first failure of the
    current run) are forgotten. A key untouched for `lockout_seconds` holds neither
    failures that still count nor a running lock, so it is dropped; memory is further
    capped at `max_keys`.
    """

    def __init__(
        self,
        max_failures: int,
        lockout_seconds: float,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_failures < 1 or lockout_seconds <= 0:
            raise ValueError("max_failures must be >= 1 and lockout_seconds > 0")
        self.max_failures = max_failures
        self.lockout_seconds = float(lockout_seconds)
        self.max_keys = max_keys
        self._clock = clock
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def locked_for(self, key: str, now: float | None = None) -> float:
        """Seconds the key stays locked (0 when it is not locked)."""
        if now is None:
            now = self._clock()
        entry = self._keys.get(key)
        return max(0.0, entry.locked_until - now) if entry else 0.0

    def record_failure(self, key: str, now: float | None = None) -> bool:
        """Count one failure; True when this failure locks the key."""
        if now is None:
            now = self._clock()
        self._expire(now)
        entry = self._keys.pop(key, None) or _Failures(now)
        if now - entry.window_start >= self.lockout_seconds:
            entry.count = 0
            entry.window_start = now
        entry.count += 1
        entry.last_seen = now
        locked = entry.count >= self.max_failures
        if locked:
            entry.locked_until = now + self.lockout_seconds
            entry.count = 0
            entry.window_start = now
        self._keys[key] = entry
        if len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return locked

    def clear(self, key: str) -> None:
        """Forget the key's failures (a success); a running lock is lifted too."""
        self._keys.pop(key, None)

    def _expire(self, now: float) -> None:
        # Entries are ordered by last_seen; both the failure window and a lock end at
        # most lockout_seconds after it.
        keys = self._keys
        while keys:
            entry = next(iter(keys.values()))
            if now - entry.last_seen < self.lockout_seconds:
                break
            keys.popitem(last=False)
