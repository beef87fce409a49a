"""`snaketron serve` with no settings, then `snaketron loadtest` with the URLs it
prints: the bots pass with zero errors while the server's limits are on (the API's
sign-ins per minute per address, the WebSocket connections per address).

Only the ports are set (0: free ports), so that the test runs beside other servers."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from snaketron.cli import build_parser
from snaketron.config import Settings
from snaketron.loadtest.cli import configure_parser, options_from_args
from snaketron.loadtest.options import DEFAULT_BOTS_PER_ADDRESS
from support.serve_process import default_serve

pytestmark = pytest.mark.slow


@dataclass
class Served:
    ws_url: str
    api_url: str  # as printed, with /api


@pytest.fixture(scope="module")
def default_server() -> Iterator[Served]:
    with default_serve() as (process, text):
        ws = re.search(r"WebSocket\s+(ws://\S+)", text)
        api = re.search(r"HTTP API\s+(http://\S+)", text)
        assert ws and api, text
        yield Served(ws[1], api[1])
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def loadtest(served: Served, tmp_path, *options: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "snaketron.cli",
            "loadtest",
            "--ws-url",
            served.ws_url,
            "--api-url",
            served.api_url,
            "--no-progress",
            "--json",
            str(report),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TERM": "dumb"},
    )
    assert report.exists(), done.stderr[-3000:]
    return done, json.loads(report.read_text())


def test_two_hundred_bots_pass_with_zero_errors_under_the_default_limits(default_server, tmp_path):
    bots = 200
    done, report = loadtest(
        default_server,
        tmp_path,
        *("--bots", str(bots), "--ramp", "40", "--duration", "35", "--finish-grace", "15"),
        *("--game-seconds", "5", "--user-prefix", "dflt"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert report["errors"] == {}
    assert report["bots_started"] == bots
    # Spread 10 to an address (the default): within the per-address limits of the server.
    assert report["source_addresses"] == bots // DEFAULT_BOTS_PER_ADDRESS
    assert sum(report["games_completed"].values()) > 0
    assert report["passed"] is True


def test_from_one_address_the_bots_wait_out_the_rate_limit(default_server, tmp_path):
    # More sign-ins from one address than its minute's allowance: the server answers 429
    # with Retry-After, the bots wait and ask again. Throttled, not failed.
    bots = Settings().api_rate_per_min + 10
    done, report = loadtest(
        default_server,
        tmp_path,
        *("--bots", str(bots), "--ramp", "100", "--duration", "40", "--finish-grace", "10"),
        *("--scenario", "solo", "--game-seconds", "2", "--bots-per-address", "0", "--user-prefix", "one"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert report["source_addresses"] == 0
    assert report["throttled"].get("http:429", 0) > 0
    assert report["errors"] == {}
    assert "throttled" in done.stdout


def test_loadtest_help_shows_every_default():
    parser = build_parser()
    loadtest_parser = parser._subparsers._group_actions[0].choices["loadtest"]  # type: ignore[union-attr]
    configure_parser(loadtest_parser)
    options = [a for a in loadtest_parser._actions if a.dest != "help"]
    assert all(a.help for a in options), [a.dest for a in options if not a.help]
    formatter = loadtest_parser._get_formatter()
    for action in options:
        shown = formatter._get_help_string(action) or ""
        # Either the default is printed, or the help says what leaving the option out means.
        assert "(default:" in shown or action.default is None, action.dest
    helps = {a.dest: a.help or "" for a in options}
    assert "when not given" in helps["ramp_per_s" if "ramp_per_s" in helps else "ramp"]
    assert "when not given" in helps["finish_grace"]


def loadtest_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(("bots", "duration"), [(300, 20.0), (1000, 20.0), (10, 60.0), (1, 1.0)])
def test_the_default_ramp_and_wind_down_fit_any_run(bots, duration):
    """`--bots N --duration D` alone always runs (shared/tools' newcomer run gives
    exactly that): the bots start within the first half of the play time."""
    args = loadtest_args("--bots", str(bots), "--duration", str(duration))
    options = options_from_args(args)
    play_s = options.duration_s - options.finish_grace_s
    assert options.finish_grace_s <= 10
    assert (bots - 1) / options.ramp_per_s <= play_s / 2 + 1e-9
    assert options.ramp_per_s >= 10


def test_an_explicit_ramp_that_cannot_fit_is_refused():
    args = loadtest_args("--bots", "300", "--duration", "20", "--ramp", "10")
    with pytest.raises(ValueError, match="--ramp"):
        options_from_args(args)
