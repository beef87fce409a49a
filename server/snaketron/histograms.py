"""Histograms recorded on the hot path as plain bucket counts, read at scrape time.

A DynamoDB request or a match delivery adds one observation: one bisect over a
short tuple and two additions, with no lock (everything that records runs on the
event loop's thread); a game tick, far more frequent, costs less still
(`TickTimings`). `snaketron.metrics` turns the counts into
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
LATENESS_MAX_MS = 1000  # lateness counted to the millisecond up to here (the largest bound)
# Computing one game's tick and pushing its frames: microseconds to tens of them.
# Buckets at 2**10 ns (1.0 us) .. 2**27 ns (134 ms).
DURATION_MIN_BITS, DURATION_MAX_BITS = 10, 27
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
    """How late each game tick ran after its deadline, and how long it took.

    The cheapest recording of all, since it runs for every game on every tick: the
    lateness (whole milliseconds, as the host measures it) counts in a slot per
    millisecond, the duration (nanoseconds) in a slot per power of two. Both become
    Prometheus buckets only when scraped.
    """

    __slots__ = ("duration_ns_log2", "duration_sum_ns", "lateness_ms")

    def __init__(self) -> None:
        self.lateness_ms = [0] * (LATENESS_MAX_MS + 2)  # the last: later than LATENESS_MAX_MS
        self.duration_ns_log2 = [0] * 64  # slot k: durations of k bits, under 2**k ns
        self.duration_sum_ns = 0

    def record(self, lateness_ms: int, duration_ns: int) -> None:
        # Comparisons, not min()/max(): this runs 20,000 times a second at capacity.
        if 0 <= lateness_ms <= LATENESS_MAX_MS:
            self.lateness_ms[lateness_ms] += 1
        else:
            self.lateness_ms[0 if lateness_ms < 0 else LATENESS_MAX_MS + 1] += 1
        self.duration_ns_log2[duration_ns.bit_length()] += 1
        self.duration_sum_ns += duration_ns

    def lateness(self) -> tuple[list[tuple[str, float]], float]:
        """Prometheus buckets (seconds) and sum of the lateness; in the sum, a tick later
        than LATENESS_MAX_MS counts as a millisecond later than that."""
        counts = self.lateness_ms
        buckets = [(repr(bound), float(sum(counts[: round(bound * 1000) + 1]))) for bound in TICK_LATENESS_BOUNDS_S]
        buckets.append(("+Inf", float(sum(counts))))
        return buckets, sum(ms * count for ms, count in enumerate(counts)) / 1000

    def duration(self) -> tuple[list[tuple[str, float]], float]:
        """Prometheus buckets (seconds: powers of two of a nanosecond, 1 us to 134 ms) and sum."""
        counts = self.duration_ns_log2
        buckets = [
            (repr(2**bits / 1e9), float(sum(counts[: bits + 1])))
            for bits in range(DURATION_MIN_BITS, DURATION_MAX_BITS + 1)
        ]
        buckets.append(("+Inf", float(sum(counts))))
        return buckets, self.duration_sum_ns / 1e9
