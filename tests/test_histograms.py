"""The hot-path histograms become the buckets Prometheus expects (cumulative, `le`)."""

from __future__ import annotations

import pytest

from snaketron.histograms import BucketCounts, TickTimings


def test_bucket_counts_are_cumulative_and_a_bound_holds_its_own_value():
    counts = BucketCounts((0.01, 0.1, 1.0))
    for value in (0.005, 0.01, 0.05, 2.0):
        counts.observe(value)
    assert counts.cumulative() == [("0.01", 2), ("0.1", 3), ("1.0", 3), ("+Inf", 4)]
    assert counts.count == 4 and counts.sum == pytest.approx(2.065)


def test_tick_lateness_counts_each_millisecond_and_clamps_the_rest():
    timings = TickTimings()
    for lateness in (-1, 0, 1, 3, 150, 5_000):
        timings.record(lateness, 1_500)
    buckets, total = timings.lateness()
    by_bound = dict(buckets)
    assert by_bound["0.001"] == 3  # -1 (a timer a hair early) counts as on time, 0 and 1
    assert by_bound["0.005"] == 4
    assert by_bound["0.1"] == 4 and by_bound["0.25"] == 5
    assert by_bound["1.0"] == 5 and by_bound["+Inf"] == 6  # 5 s late: above every bound
    assert total == pytest.approx((0 + 0 + 1 + 3 + 150 + 1_001) / 1000)  # ...and 1.001 s in the sum


def test_tick_duration_buckets_are_powers_of_two_nanoseconds():
    timings = TickTimings()
    timings.record(0, 1_500)  # 11 bits: under 2**11 ns
    timings.record(0, 40_000)  # 16 bits: under 65.5 us
    buckets, total = timings.duration()
    counts = [count for _, count in buckets]
    assert counts == sorted(counts) and buckets[-1] == ("+Inf", 2.0)
    assert dict(buckets)[repr(2**11 / 1e9)] == 1 and dict(buckets)[repr(2**16 / 1e9)] == 2
    assert total == pytest.approx(41_500 / 1e9)
