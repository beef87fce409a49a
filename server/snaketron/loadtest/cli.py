"""`snaketron loadtest`: options, live progress, the final table, JSON and the exit code.

Exit codes: 0 when the error rate stayed within --max-error-rate, 1 when it did
not, 2 for unusable options. Ctrl-C stops the bots at once and still reports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from rich.console import Console
from rich.live import Live
from rich.table import Table

from snaketron.loadtest.metrics import Metrics
from snaketron.loadtest.options import DEFAULT_BOTS_PER_ADDRESS, DEFAULT_MIX, SCENARIOS, LoadTestOptions, parse_mix
from snaketron.loadtest.report import Report, latency_table, summary_table, write_json
from snaketron.loadtest.runner import LoadTest
from snaketron.loadtest.timeseries import SeriesOutput, TimeSeriesRecorder, add_series_options, series_output_from_args


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every default in the help, except options whose help says what not giving them means."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default is None else super()._get_help_string(action)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Drive headless bots that play real games against a SnakeTron server on this machine. "
        "Give it the URLs that `snaketron serve` prints."
    )
    parser.formatter_class = _DefaultsFormatter
    parser.add_argument("--ws-url", default="ws://127.0.0.1:8080/ws", help="WebSocket URL (127.0.0.1/localhost only)")
    parser.add_argument(
        "--api-url", default="http://127.0.0.1:3001/api", help="HTTP API URL, with or without /api (this machine only)"
    )
    parser.add_argument("--bots", type=int, default=10, help="bots to start")
    parser.add_argument(
        "--ramp",
        type=float,
        default=None,
        help=f"bots started per second; when not given, {DEFAULT_RAMP_PER_S:g}, or faster where that is needed "
        "to start every bot within the first half of the play time",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds the whole run lasts from the first bot's start: ramp, play and the --finish-grace "
        "wind-down (with --sign-in-first, the sign-in before it is not counted)",
    )
    parser.add_argument(
        "--bots-per-address",
        type=int,
        default=DEFAULT_BOTS_PER_ADDRESS,
        help="bots per loopback source address (127.0.0.2, 127.0.0.3, ...) so that each address stays within "
        "the server's per-address limits; 0: every bot from one address",
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="mix", help="what the bots play")
    parser.add_argument(
        "--mix",
        default=",".join(f"{role.value}={weight}" for role, weight in DEFAULT_MIX.items()),
        help="bot weights of the mix scenario, ROLE=WEIGHT,...",
    )
    parser.add_argument(
        "--game-seconds", type=float, default=30.0, help="a bot steers this long per game, then crashes"
    )
    parser.add_argument("--think-ticks", type=int, default=20, help="bots seek food every N ticks (0: only dodge)")
    parser.add_argument("--user-prefix", default="loadbot", help="bot accounts are PREFIX0, PREFIX1, ...")
    parser.add_argument("--password", default="loadbot-secret", help="password of the bot accounts")
    parser.add_argument("--max-error-rate", type=float, default=0.01, help="exit 1 above this errors/attempts")
    parser.add_argument(
        "--finish-grace",
        type=float,
        default=None,
        help=f"the last seconds of --duration: no new game begins, games under way may finish; "
        f"bots still playing at the end are cut off (not an error); when not given, {DEFAULT_FINISH_GRACE_S:g} s "
        "or a quarter of --duration, whichever is shorter",
    )
    parser.add_argument(
        "--sign-in-first", action="store_true", help="sign all bots in over HTTP before the ramp (a few at a time)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        help="discard command/event latencies of this many seconds after the ramp "
        "(they end with the duration: the wind-down is never counted)",
    )
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="write the figures as JSON to FILE")
    parser.add_argument("--no-progress", action="store_true", help="no live display")
    add_series_options(parser)


# Defaults that fit any --bots and --duration: a short run with many bots starts them
# faster rather than being refused (an explicit --ramp or --finish-grace that cannot
# fit is still refused, naming the option).
DEFAULT_RAMP_PER_S = 10.0
DEFAULT_FINISH_GRACE_S = 10.0


def fitting_defaults(
    bots: int, duration_s: float, ramp: float | None, finish_grace: float | None
) -> tuple[float, float]:
    """The ramp rate and finish grace of a run, from the options given (None: not given)."""
    grace = finish_grace if finish_grace is not None else min(DEFAULT_FINISH_GRACE_S, duration_s / 4)
    if ramp is not None:
        return ramp, grace
    play_s = duration_s - grace
    needed = (bots - 1) / (play_s / 2) if play_s > 0 else DEFAULT_RAMP_PER_S
    return max(DEFAULT_RAMP_PER_S, needed), grace


def options_from_args(args: argparse.Namespace) -> LoadTestOptions:
    ramp_per_s, finish_grace_s = fitting_defaults(args.bots, args.duration, args.ramp, args.finish_grace)
    options = LoadTestOptions(
        ws_url=args.ws_url,
        api_url=args.api_url,
        bots=args.bots,
        ramp_per_s=ramp_per_s,
        duration_s=args.duration,
        scenario=args.scenario,
        mix=parse_mix(args.mix),
        game_seconds=args.game_seconds,
        think_ticks=args.think_ticks,
        user_prefix=args.user_prefix,
        password=args.password,
        max_error_rate=args.max_error_rate,
        finish_grace_s=finish_grace_s,
        bots_per_address=args.bots_per_address,
        warmup_s=args.warmup,
        sign_in_first=args.sign_in_first,
        json_path=args.json_path,
        progress=not args.no_progress,
    )
    options.check()
    return options


def loadtest_command(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        options = options_from_args(args)
        series = series_output_from_args(args)
    except ValueError as exc:
        console.print(f"snaketron loadtest: {exc}", markup=False, soft_wrap=True)  # a message, not markup
        return 2
    try:
        import uvloop

        report = uvloop.run(_run(options, console, series))
    except ImportError:
        report = asyncio.run(_run(options, console, series))
    out = Console()
    out.print(summary_table(report))
    out.print(latency_table(report.latency_ms))
    if options.json_path:
        write_json(report, options.json_path)
    return 0 if report.passed else 1


async def _run(options: LoadTestOptions, console: Console, series: SeriesOutput | None = None) -> Report:
    test = LoadTest(options)
    # Announced on stderr so that a benchmark driving the server can line its own counters up.
    test.on_steady = lambda: print("loadtest: steady state from now", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGINT, test.interrupt)
        loop.add_signal_handler(signal.SIGTERM, test.interrupt)
    live_display = options.progress and console.is_terminal
    live = Live(Table(), console=console, refresh_per_second=2, transient=True) if live_display else None
    previous = [0, 0.0]

    def show(metrics: Metrics, elapsed: float) -> None:
        rate = (metrics.received - previous[0]) / max(1e-9, elapsed - previous[1])
        previous[:] = [metrics.received, elapsed]
        if live is not None:
            live.update(progress_table(metrics, elapsed, rate))
        elif options.progress:
            delivery = metrics.latency["event_delivery"]
            print(
                f"[{elapsed:6.1f}s] bots {metrics.bots_running} in game {metrics.bots_in_game} "
                f"games {sum(metrics.games_completed.values())} msgs/s {rate:,.0f} "
                f"delivery p99 {delivery.percentile_ms(99):.1f} ms errors {metrics.error_count}",
                file=sys.stderr,
                flush=True,
            )

    with live if live is not None else contextlib.nullcontext():
        if series is None or not series.wanted:
            return await test.run(show)
        async with TimeSeriesRecorder(test.metrics, options.api_url, series).running() as recorder:
            report = await test.run(show)
        recorder.finish(report)
        return report


def progress_table(metrics: Metrics, elapsed: float, received_per_s: float) -> Table:
    table = Table(title=f"snaketron loadtest — {elapsed:.0f} s")
    for column in (
        "bots",
        "in game",
        "games done",
        "msgs in/s",
        "delivery p50",
        "delivery p99",
        "command p99",
        "errors",
    ):
        table.add_column(column, justify="right")
    delivery = metrics.latency["event_delivery"]
    command = metrics.latency["command_to_scheduled"]
    table.add_row(
        str(metrics.bots_running),
        str(metrics.bots_in_game),
        str(sum(metrics.games_completed.values())),
        f"{received_per_s:,.0f}",
        f"{delivery.percentile_ms(50):.1f} ms",
        f"{delivery.percentile_ms(99):.1f} ms",
        f"{command.percentile_ms(99):.1f} ms",
        str(metrics.error_count),
    )
    return table
