"""A load test's figures second by second: what the bots saw and what the server said.

Once a second `TimeSeriesRecorder` takes one `Sample`: players live, event
delivery p50/p99 over that second, frames received per second and errors, from
the bots' own `Metrics`; tick lateness p99, late ticks and DynamoDB requests per
second from the server's `GET /metrics` (prometheus_client's parser). A server
whose metrics cannot be read (switched off, another server) leaves those columns
empty and the run goes on. The series goes to a CSV file (`--timeseries`), a row
as it is taken, so an interrupted run keeps what it saw, and to `--plot`
(loadtest/plot.py).

Nothing here runs on the bots' path: the delivery percentiles of one second are
the difference of two copies of the run's HDR histogram, taken by the sampler.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import dataclasses
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import IO

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from snaketron.loadtest.metrics import Latency, Metrics
from snaketron.loadtest.report import Report
from snaketron.logs import get_logger

log = get_logger(__name__)

SAMPLE_EVERY_S = 1.0
SCRAPE_TIMEOUT_S = 2.0


@dataclasses.dataclass(frozen=True)
class Sample:
    """One second of a run; server columns are None when its metrics could not be read."""

    t_s: float  # since the run began (sign-ins included)
    players_live: int
    bots_running: int
    delivery_p50_ms: float | None  # events delivered in this second (None: none were)
    delivery_p99_ms: float | None
    messages_per_s: float  # frames the bots received
    errors: int  # so far
    tick_lateness_p99_ms: float | None
    late_ticks_per_s: float | None
    dynamodb_requests_per_s: float | None


COLUMNS = tuple(f.name for f in dataclasses.fields(Sample))


@dataclasses.dataclass(frozen=True)
class SeriesOutput:
    """Where a run's series goes: `--timeseries FILE.csv`, `--plot FILE.png`."""

    csv_path: str | None = None
    plot_path: str | None = None

    @property
    def wanted(self) -> bool:
        return bool(self.csv_path or self.plot_path)


def add_series_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeseries",
        metavar="FILE",
        help="write the run's figures second by second (players, delivery, lateness, messages, errors, "
        "DynamoDB requests from the server's /metrics) as CSV to FILE (default: none)",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw those figures into FILE.png when the run ends (needs matplotlib: pip install 'snaketron[plot]')",
    )


def series_output_from_args(args: argparse.Namespace) -> SeriesOutput:
    """The output options; ValueError when --plot cannot be drawn (checked before the run)."""
    output = SeriesOutput(csv_path=args.timeseries, plot_path=args.plot)
    if output.plot_path:
        from snaketron.loadtest.plot import require_matplotlib

        require_matplotlib()
    return output


# --- what one second looks like -------------------------------------------------------------


class IntervalPercentiles:
    """Percentiles of what a `Latency` recorded since the previous call."""

    def __init__(self) -> None:
        self._histogram: object = None
        self._previous: list[int] = []

    def take(self, latency: Latency, percentiles: Iterable[float]) -> list[float | None]:
        histogram = latency.histogram
        counts = histogram.counts[:]
        if histogram is not self._histogram:  # a new distribution (the steady state began): all of it is new
            self._histogram, self._previous = histogram, [0] * len(counts)
        delta = [now - before for now, before in zip(counts, self._previous, strict=True)]
        self._previous = counts
        total = sum(delta)
        if total == 0:
            return [None for _ in percentiles]
        values: list[float | None] = []
        for percentile in percentiles:
            wanted = max(1, round(total * percentile / 100))
            running = 0
            for index, count in enumerate(delta):
                running += count
                if running >= wanted:
                    value_us = histogram.get_highest_equivalent_value(histogram.get_value_from_index(index))
                    values.append(value_us / 1000)
                    break
        return values


@dataclasses.dataclass
class ServerFigures:
    """The counters of one scrape that the series uses."""

    lateness_buckets: dict[float, float]  # upper bound (s) -> cumulative count
    late_ticks: float
    dynamodb_requests: float


def parse_server_metrics(text: str) -> ServerFigures:
    buckets: dict[float, float] = {}
    late = requests = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "snaketron_tick_lateness_seconds_bucket":
                buckets[float(sample.labels["le"])] = sample.value
            elif sample.name == "snaketron_late_ticks_total":
                late = sample.value
            elif sample.name == "snaketron_dynamodb_requests_total":
                requests += sample.value
    return ServerFigures(buckets, late, requests)


def bucket_quantile(quantile: float, before: dict[float, float], after: dict[float, float]) -> float | None:
    """The quantile of the observations between two scrapes of a cumulative histogram,
    interpolated within its bucket as Prometheus' histogram_quantile does."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank = quantile * counts[-1]
    lower, below = 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return lower  # above every bound: the highest finite one is all that is known
            inside = cumulative - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, cumulative
    return None


def metrics_url(api_url: str) -> str:
    """The server's /metrics, from the API URL given with or without its /api path."""
    base = api_url.rstrip("/")
    return (base.removesuffix("/api") or base) + "/metrics"


# --- the recorder ---------------------------------------------------------------------------


class TimeSeriesRecorder:
    def __init__(self, metrics: Metrics, api_url: str, output: SeriesOutput) -> None:
        self.metrics = metrics
        self.url = metrics_url(api_url)
        self.output = output
        self.samples: list[Sample] = []
        self._delivery = IntervalPercentiles()
        self._last_received = 0
        self._last_taken = 0.0
        self._began = 0.0  # the recorder's start: the run's clock restarts after --sign-in-first
        self._last_server: ServerFigures | None = None
        self._scrape_failed = False
        self._file: IO[str] | None = None
        self._writer: csv.DictWriter | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TimeSeriesRecorder]:
        """Sample every second while the body runs (the load test)."""
        self._open_csv()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT_S)) as http:
            self._began = self._last_taken = time.monotonic()
            self._last_server = await self._scrape(http)
            task = asyncio.get_running_loop().create_task(self._every_second(http))
            try:
                yield self
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                if self._file is not None:
                    self._file.close()

    def _open_csv(self) -> None:
        # A local file and a row a second: small enough to write from the loop.
        if self.output.csv_path:
            self._file = Path(self.output.csv_path).open("w", newline="")  # noqa: SIM115 (closed by running())
            self._writer = csv.DictWriter(self._file, fieldnames=COLUMNS)
            self._writer.writeheader()

    async def _every_second(self, http: aiohttp.ClientSession) -> None:
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            self.record(await self.take(http))

    async def take(self, http: aiohttp.ClientSession) -> Sample:
        metrics = self.metrics
        now = time.monotonic()
        elapsed = max(now - self._last_taken, 1e-6)
        self._last_taken = now
        p50, p99 = self._delivery.take(metrics.latency["event_delivery"], (50, 99))
        received = metrics.received
        messages_per_s = (received - self._last_received) / elapsed
        self._last_received = received
        server = await self._scrape(http)
        before, self._last_server = self._last_server, server
        lateness = late = requests = None
        if server is not None and before is not None:
            quantile = bucket_quantile(0.99, before.lateness_buckets, server.lateness_buckets)
            lateness = None if quantile is None else round(quantile * 1000, 2)
            late = round((server.late_ticks - before.late_ticks) / elapsed, 2)
            requests = round((server.dynamodb_requests - before.dynamodb_requests) / elapsed, 1)
        return Sample(
            t_s=round(now - self._began, 2),
            players_live=metrics.players_live,
            bots_running=metrics.bots_running,
            delivery_p50_ms=p50,
            delivery_p99_ms=p99,
            messages_per_s=round(messages_per_s, 1),
            errors=metrics.error_count,
            tick_lateness_p99_ms=lateness,
            late_ticks_per_s=late,
            dynamodb_requests_per_s=requests,
        )

    def finish(self, report: Report) -> None:
        """The run is over: draw the series when --plot asked for it."""
        if self.output.plot_path:
            from snaketron.loadtest.plot import draw

            title = (
                f"snaketron loadtest: {report.scenario}, {report.bots_started} bots, "
                f"{report.elapsed_s:.0f} s, {report.error_count} errors"
            )
            draw(self.samples, self.output.plot_path, title=title)

    def record(self, sample: Sample) -> None:
        self.samples.append(sample)
        if self._writer is not None and self._file is not None:
            self._writer.writerow(dataclasses.asdict(sample))
            self._file.flush()

    async def _scrape(self, http: aiohttp.ClientSession) -> ServerFigures | None:
        try:
            async with http.get(self.url) as response:
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                return parse_server_metrics(await response.text())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            if not self._scrape_failed:
                self._scrape_failed = True
                log.warning("server metrics not read; their columns stay empty", url=self.url, error=str(exc))
            return None


def read_series(path: str) -> list[Sample]:
    """A series written by `--timeseries`."""
    with Path(path).open(newline="") as file:
        return [_sample_of(row) for row in csv.DictReader(file)]


def _sample_of(row: dict[str, str]) -> Sample:
    values: dict[str, object] = {}
    for field in dataclasses.fields(Sample):
        raw = row[field.name]
        if raw == "":
            values[field.name] = None
        elif field.type == "int":
            values[field.name] = int(raw)
        else:
            values[field.name] = float(raw)
    return Sample(**values)  # type: ignore[arg-type]
