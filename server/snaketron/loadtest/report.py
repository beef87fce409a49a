"""The figures of a run: one msgspec Struct, shown as a table and written as JSON."""

from __future__ import annotations

import datetime
import statistics

import msgspec
from rich.table import Table

from snaketron.loadtest.bot import ClockEstimate
from snaketron.loadtest.metrics import LATENCIES, LatencySummary, Metrics
from snaketron.loadtest.options import LoadTestOptions


class Report(msgspec.Struct, kw_only=True):
    scenario: str
    ws_url: str
    bots_planned: int
    bots_started: int
    source_addresses: int = 0  # loopback addresses the bots connected from (0: not spread)
    ramp_per_s: float
    duration_s: float
    elapsed_s: float
    finished_at: str
    interrupted: bool
    # Connect, auth and queue-to-match over the whole run; command-to-scheduled and event
    # delivery over the steady state only (from the warm-up's end to the duration's end).
    latency_ms: dict[str, LatencySummary]
    # The same distributions as HDR compressed histograms (`Latency.merged` adds up several runs).
    latency_hdr: dict[str, str]
    negative_latencies: dict[str, int]  # recorded as 0: the clock-sync offset was off by that much
    # Each bot's best clock-sync sample (min, mean, max over bots), and the run's estimate used
    # for every latency (the sample with the shortest round trip, and that round trip).
    clock_offset_ms: dict[str, float]
    # Bots playing in started games, sampled every second from the end of the ramp to the end of the duration.
    players_live_mean: float
    players_live_peak: int
    # Frames that reached the bots in the steady state (after the warm-up), and for how long.
    steady_s: float
    steady_frames_received: int
    steady_bytes_received: int
    messages_received: int
    bytes_received: int
    messages_sent: int
    received_per_s: float
    sent_per_s: float
    plays_started: dict[str, int]  # per bot
    plays_completed: dict[str, int]
    games_completed: dict[str, int]  # distinct games
    late_commands: int
    # This process's garbage collections in the steady state: count and longest, per generation.
    load_generator_gc: dict[str, list]
    attempts: int
    errors: dict[str, int]
    # Requests the server asked to retry later (429, 503 with Retry-After): waited out, not errors.
    throttled: dict[str, int] = msgspec.field(default_factory=dict)
    error_count: int
    error_rate: float
    max_error_rate: float
    passed: bool


def build_report(
    options: LoadTestOptions,
    metrics: Metrics,
    *,
    clock: ClockEstimate,
    bots_started: int,
    elapsed_s: float,
    source_addresses: int = 0,
    interrupted: bool,
) -> Report:
    offsets = metrics.clock_offsets_ms
    samples = metrics.players_live_samples
    metrics.end_steady_state()
    assert metrics.steady is not None
    steady_s, steady_frames, steady_bytes = metrics.steady
    elapsed = max(elapsed_s, 1e-9)
    latency = {**metrics.latency, **metrics.steady_latency}
    return Report(
        scenario=options.scenario,
        ws_url=options.ws_url,
        bots_planned=options.bots,
        bots_started=bots_started,
        source_addresses=source_addresses,
        ramp_per_s=options.ramp_per_s,
        duration_s=options.duration_s,
        elapsed_s=round(elapsed_s, 3),
        finished_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        interrupted=interrupted,
        latency_ms={name: latency[name].summary() for name in LATENCIES},
        latency_hdr={name: latency[name].encoded() for name in LATENCIES},
        negative_latencies={name: latency[name].negative for name in LATENCIES},
        clock_offset_ms={
            "min": round(min(offsets), 3) if offsets else 0.0,
            "mean": round(statistics.fmean(offsets), 3) if offsets else 0.0,
            "max": round(max(offsets), 3) if offsets else 0.0,
            "used": round(clock.offset_ms, 3),
            "used_round_trip": round(clock.round_trip_ms, 3) if offsets else 0.0,
        },
        players_live_mean=round(statistics.fmean(samples), 1) if samples else 0.0,
        players_live_peak=max(samples, default=0),
        steady_s=round(steady_s, 3),
        steady_frames_received=steady_frames,
        steady_bytes_received=steady_bytes,
        messages_received=metrics.received,
        bytes_received=metrics.received_bytes,
        messages_sent=metrics.sent,
        received_per_s=round(metrics.received / elapsed, 1),
        sent_per_s=round(metrics.sent / elapsed, 1),
        plays_started=dict(metrics.plays_started),
        plays_completed=dict(metrics.plays_completed),
        games_completed=dict(metrics.games_completed),
        late_commands=metrics.late_commands,
        load_generator_gc=metrics.steady_gc,
        attempts=metrics.attempts,
        errors=dict(metrics.errors),
        throttled=dict(metrics.throttled),
        error_count=metrics.error_count,
        error_rate=round(metrics.error_rate, 6),
        max_error_rate=options.max_error_rate,
        passed=metrics.error_rate <= options.max_error_rate,
    )


def write_json(report: Report, path: str) -> None:
    with open(path, "wb") as out:
        out.write(msgspec.json.format(msgspec.json.encode(report), indent=2))
        out.write(b"\n")


def read_json(path: str) -> Report:
    with open(path, "rb") as source:
        return msgspec.json.decode(source.read(), type=Report)


def latency_table(latency: dict[str, LatencySummary], title: str = "latency (ms)") -> Table:
    table = Table(title=title)
    for column in ("measure", "count", "mean", "p50", "p90", "p99", "p99.9", "max"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name, s in latency.items():
        table.add_row(
            name.replace("_", " "),
            f"{s.count:,}",
            *(f"{v:.1f}" for v in (s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms)),
        )
    return table


def summary_table(report: Report) -> Table:
    table = Table(
        title=f"loadtest {report.scenario}: {report.bots_started}/{report.bots_planned} bots, {report.elapsed_s:.0f} s"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("messages received", f"{report.messages_received:,} ({report.received_per_s:,.0f}/s)"),
        ("players in live games (mean / peak)", f"{report.players_live_mean:.0f} / {report.players_live_peak}"),
        ("messages sent", f"{report.messages_sent:,} ({report.sent_per_s:,.0f}/s)"),
        ("games completed", _counts(report.games_completed)),
        ("plays completed / started", f"{sum(report.plays_completed.values())} / {sum(report.plays_started.values())}"),
        (
            "clock offset (ms)",
            f"{report.clock_offset_ms['used']:.1f} (round trip {report.clock_offset_ms['used_round_trip']:.1f}; "
            f"bots {report.clock_offset_ms['min']:.1f} .. {report.clock_offset_ms['max']:.1f})",
        ),
        ("late commands (game over)", str(report.late_commands)),
        ("bots' source addresses", str(report.source_addresses) if report.source_addresses else "one (not spread)"),
        ("throttled, waited out (not errors)", _counts(report.throttled) or "none"),
        ("errors", _counts(report.errors) or "none"),
        ("error rate", f"{report.error_rate:.4f} (max {report.max_error_rate})"),
        ("result", "PASS" if report.passed else "FAIL: error rate over the threshold"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
