"""In-game latencies and collections are reported for the steady state only: what the
bots see while the run winds down (the last games, connections closing, the
collector's reclaim) is not what a load test measures."""

from __future__ import annotations

from snaketron.loadtest.bot import ClockEstimate
from snaketron.loadtest.metrics import Metrics
from snaketron.loadtest.options import LoadTestOptions
from snaketron.loadtest.report import build_report


def _report(metrics: Metrics):
    options = LoadTestOptions(ws_url="ws://127.0.0.1:1/ws", api_url="http://127.0.0.1:1", scenario="solo", bots=1)
    return build_report(options, metrics, clock=ClockEstimate(), bots_started=1, elapsed_s=1.0, interrupted=False)


def test_latencies_after_the_steady_state_are_not_reported():
    metrics = Metrics()
    metrics.latency["connect"].record_ms(3.0)
    metrics.latency["event_delivery"].record_ms(900.0)  # the ramp: dropped by the restart
    metrics.restart_steady_state()
    for _ in range(99):
        metrics.latency["event_delivery"].record_ms(5.0)
    metrics.latency["command_to_scheduled"].record_ms(7.0)
    metrics.end_steady_state()
    metrics.latency["event_delivery"].record_ms(450.0)  # winding down
    metrics.latency["connect"].record_ms(4.0)  # a whole-run figure keeps counting
    report = _report(metrics)
    delivery = report.latency_ms["event_delivery"]
    assert delivery.count == 99 and delivery.max_ms < 10
    assert report.latency_ms["command_to_scheduled"].count == 1
    assert report.latency_ms["connect"].count == 2


def test_collections_after_the_steady_state_are_not_reported():
    metrics = Metrics()
    metrics.restart_steady_state()
    metrics.gc_pauses._on_gc("start", {"generation": 0})
    metrics.gc_pauses._on_gc("stop", {"generation": 0})
    metrics.end_steady_state()
    metrics.gc_pauses._on_gc("start", {"generation": 2})  # the reclaim after the run
    metrics.gc_pauses._on_gc("stop", {"generation": 2})
    assert _report(metrics).load_generator_gc["count"] == [1, 0, 0]
