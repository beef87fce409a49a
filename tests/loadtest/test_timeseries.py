"""The load test's time series: written by a short run against a real server (its
server columns scraped from /metrics), and drawn by --plot."""

from __future__ import annotations

import argparse
import sys

import pytest
from rich.console import Console

from snaketron.game_server import GameServer
from snaketron.loadtest.cli import _run, configure_parser, loadtest_command
from snaketron.loadtest.metrics import Latency
from snaketron.loadtest.options import LoadTestOptions
from snaketron.loadtest.plot import INSTALL_HINT
from snaketron.loadtest.timeseries import (
    COLUMNS,
    IntervalPercentiles,
    SeriesOutput,
    bucket_quantile,
    metrics_url,
    read_series,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def short_run(server: GameServer) -> LoadTestOptions:
    return LoadTestOptions(
        ws_url=server.ws_url,
        api_url=server.api_url,
        scenario="solo",
        bots=3,
        ramp_per_s=50,
        duration_s=4.0,
        game_seconds=3.0,
        finish_grace_s=1.0,  # a part of the duration: the last second starts no game
        user_prefix="series",
        progress=False,
        max_error_rate=0.0,
    )


async def test_a_short_run_writes_its_series_and_the_plot(server, tmp_path):
    pytest.importorskip("matplotlib")
    csv_path, png_path = tmp_path / "series.csv", tmp_path / "run.png"
    report = await _run(short_run(server), Console(quiet=True), SeriesOutput(str(csv_path), str(png_path)))
    assert report.errors == {}

    assert csv_path.read_text().splitlines()[0] == ",".join(COLUMNS)
    samples = read_series(str(csv_path))
    assert len(samples) >= 3  # one a second over a run of 4 s and more
    assert [s.t_s for s in samples] == sorted(s.t_s for s in samples)
    assert max(s.players_live for s in samples) >= 1
    assert max(s.messages_per_s for s in samples) > 0
    delivered = [s for s in samples if s.delivery_p99_ms is not None]
    assert delivered and all(s.delivery_p50_ms <= s.delivery_p99_ms for s in delivered)
    assert all(s.errors == 0 for s in samples)
    # From the server's /metrics: the games' ticks and the bots' sign-ups and games.
    assert any(s.tick_lateness_p99_ms is not None for s in samples)
    assert sum(s.dynamodb_requests_per_s or 0 for s in samples) > 0

    picture = png_path.read_bytes()
    assert picture.startswith(PNG_SIGNATURE) and len(picture) > 10_000


async def test_a_server_without_metrics_leaves_its_columns_empty(start_server, tmp_path):
    server = await start_server(metrics_enabled=False)
    csv_path = tmp_path / "series.csv"
    report = await _run(short_run(server), Console(quiet=True), SeriesOutput(str(csv_path)))
    assert report.errors == {}
    samples = read_series(str(csv_path))
    assert samples and max(s.players_live for s in samples) >= 1
    assert all(s.dynamodb_requests_per_s is None and s.tick_lateness_p99_ms is None for s in samples)


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    args = parser.parse_args(["--plot", str(tmp_path / "run.png"), "--no-progress"])
    assert loadtest_command(args) == 2  # refused before any bot starts
    assert "pip install 'snaketron[plot]'" in capsys.readouterr().err
    assert "snaketron[plot]" in INSTALL_HINT
    assert not (tmp_path / "run.png").exists()


def test_interval_percentiles_cover_only_the_last_interval():
    latency = Latency()
    interval = IntervalPercentiles()
    for _ in range(100):
        latency.record_ms(100.0)
    assert interval.take(latency, (50, 99)) == [pytest.approx(100.0, rel=0.01)] * 2
    assert interval.take(latency, (50,)) == [None]  # nothing new
    for _ in range(100):
        latency.record_ms(2.0)
    assert interval.take(latency, (99,)) == [pytest.approx(2.0, rel=0.01)]


def test_bucket_quantile_interpolates_between_scrapes():
    before = {0.01: 10.0, 0.1: 10.0, float("inf"): 10.0}
    after = {0.01: 10.0, 0.1: 110.0, float("inf"): 110.0}  # 100 new observations, all in (0.01, 0.1]
    assert bucket_quantile(0.5, before, after) == pytest.approx(0.055)
    assert bucket_quantile(0.99, before, before) is None  # nothing observed


def test_metrics_url_takes_the_api_url_with_or_without_api():
    assert metrics_url("http://127.0.0.1:3001") == "http://127.0.0.1:3001/metrics"
    assert metrics_url("http://127.0.0.1:3001/api/") == "http://127.0.0.1:3001/metrics"
