"""Histograms recorded on the hot path as plain bucket counts, read at scrape time.

A game tick, a DynamoDB request or a match delivery adds one observation: one
bisect over a short tuple and two additions, with no lock (everything that records
runs on the event loop's thread). `snaketron.metrics` turns the counts into
Prometheus histograms when `/metrics` is scraped, so the hot path never touches
prometheus_client's locked metric objects.

The bucket bounds live here, next to what records into them, in seconds as
Prometheus expects.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# A tick runs up to 2 ms after its deadline by design (tick_slots.py); a tick more
# than one tick length (100 ms) late counts as late.
TICK_LATENESS_BOUNDS_S = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# Computing one game's tick and pushing its frames: tens of microseconds.
TICK_DURATION_BOUNDS_S = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)
# One DynamoDB request attempt, as the client saw it.
DB_LATENCY_BOUNDS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# From QueueForMatch to MatchFound.
MATCH_WAIT_BOUNDS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class BucketCounts:
    """Observations counted per bucket (`le` semantics: a value equal to a bound is in it)."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(sorted(bounds))
        self.counts = [0] * (len(self.bounds) + 1)  # the last one: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, float]]:
        """The Prometheus buckets: (upper bound, observations at or below it), +Inf last."""
        running = 0
        buckets: list[tuple[str, float]] = []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return buckets


class TickTimings:
    """How late each game tick ran after its deadline, and how long it took."""

    __slots__ = ("duration", "lateness")

    def __init__(self) -> None:
        self.lateness = BucketCounts(TICK_LATENESS_BOUNDS_S)
        self.duration = BucketCounts(TICK_DURATION_BOUNDS_S)

    def record(self, lateness_ms: int, duration_s: float) -> None:
        self.lateness.observe(lateness_ms / 1000)
        self.duration.observe(duration_s)
