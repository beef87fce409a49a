"""The one retry policy of the data layer: exponential backoff with full jitter.

Every transient DynamoDB failure (throttling, 5xx, connection errors) waits
`random(0, min(cap, base * 2**(attempt-1)))` before the next attempt ("full
jitter": spreads the retries of many clients so they do not hammer a throttled
partition in lock step). An operation stops after `attempts` tries or when the
next wait would cross its deadline, whichever comes first. The batch writer uses
the same delays when it re-sends UnprocessedItems.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from snaketron.config import Settings


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 8
    base_ms: int = 25
    max_ms: int = 2_000
    deadline_ms: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            attempts=max(1, settings.db_retry_attempts),
            base_ms=max(1, settings.db_retry_base_ms),
            max_ms=max(1, settings.db_retry_max_ms),
            deadline_ms=max(1, settings.db_deadline_ms),
        )

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.max_ms, self.base_ms * (2 ** min(max(attempt - 1, 0), 30)))
        return (rng or random).uniform(0, ceiling) / 1000.0
