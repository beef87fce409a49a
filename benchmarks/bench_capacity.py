"""Capacity: the most concurrent players one server process holds in live 10 Hz games,
and issue 22's figures, which compare it with a bare broadcast server in the same run.

A player count holds when, in the steady state (after the ramp and a warm-up),
p99 event delivery stays under 50 ms, no game's tick was computed more than one
tick late (the host's `stats.late_ticks`) and no bot saw an error. Duels and
6-player free-for-alls are measured apart.

Three processes, as in production: the game server (a fresh one per step, the
same `GameServer` that `snaketron serve` runs, configured by the same
environment variables; it prints its host stats when it stops), a fresh DynamoDB
endpoint per step (the embedded one that `snaketron serve` starts, whose
transactions back up only the items they touch; stock moto copies whole tables
per transaction and, with a thousand accounts, timed out lobby creation and
authentication during the ramp), and the load generators (`snaketron
loadtest` with JSON output; they sign every bot up before their ramp).

Issue 22's figures, for each mode, from one run (the first `--via` is the reference):
  1. CPU efficiency: the bare broadcast server (bench_broadcast_ceiling.py) measured
     at the reference's bot count with the traffic its players saw (frames per client
     per second, bytes per frame, group size), reading clients in as many processes as
     there were load generators: its CPU µs per client-second / the game server's CPU
     µs per player-second. Target >= 0.8.
  2. `--matched-clients`: the bare server's ceiling with clients that spend the bots'
     CPU per frame, searched from the capacity up in whole groups (bounded with
     `--once`); capacity / that ceiling. Target >= 0.8.
  3. `--via lobby,matchmaking`: the capacity through matchmaking next to the lobby's,
     their ratio (target: within 10%) and the queue-to-match p99 (QueueForMatch sent ->
     MatchFound received, over the whole run, ramp included).
  4. Context only: DynamoDB requests in the steady state per game finished in it
     (bench_requests_per_game.py measures the judged figure).
  5. Players per core: 1,000,000 / the game server's µs per player-second, next to
     the bare server's 1,000,000 / µs per client-second.
Each step prints the load average before and after it and every process's CPU (game
server, endpoint, each load generator; bare server, each client process); the mode
ends with a table of every figure and each ratio against its target. With `--once`
a failing step's figures are still printed, marked as not a capacity.

    # every figure for one mode, one count (< 20 min per mode):
    python benchmarks/bench_capacity.py --modes duel --start 1600 --once \\
        --via lobby,matchmaking --matched-clients
    python benchmarks/bench_capacity.py --modes ffa --start 3000 --once \\
        --via lobby,matchmaking --matched-clients
    # a quick check of the tool (about 3 minutes):
    python benchmarks/bench_capacity.py --modes duel --start 200 --once --seconds 8 \\
        --via lobby,matchmaking --matched-clients
    # a capacity search (raise by --step while it holds), then the figures at the best count:
    python benchmarks/bench_capacity.py --modes duel --start 3200 --step 400 --matched-clients
    # also the bare ceiling with reading clients (the earlier capacity ratio, context):
    python benchmarks/bench_capacity.py --modes duel --start 3200 --once --receive-ceiling
    # the game server alone, profiled (py-spy, raw collapsed stacks per process):
    python benchmarks/bench_capacity.py --modes duel --start 1000 --once --no-ceiling \\
        --endpoint-nice 10 --seconds 15 --profile /tmp/prof
    python benchmarks/bench_capacity.py --modes duel --start 1000 --metrics-ab 3

The machine's cores are shared by everything here (and by whatever else runs): CPU
per player-second holds up under that better than latency does. The server's
figures (late ticks, collections, DynamoDB requests, games finished) cover the load
generators' steady-state window only. With `--stall-watch` its loop's longest stalls
are printed with the CPU it used across each (stall_watch.py), which tells its own
work from being preempted; it is off by default because the bare server carries no
such watchdog and figure 1 compares the two servers' CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_broadcast_ceiling import MAX_STEPS as MAX_CEILING_STEPS
from bench_broadcast_ceiling import (
    P99_LIMIT_MS,
    CeilingStep,
    ClientLoad,
    Traffic,
    climb,
    cpu_seconds,
    describe,
    find_ceiling,
    free_port,
    highest_held,
    load_average,
    split_groups,
)
from bench_broadcast_ceiling import measure as measure_ceiling
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.native import compiled_modules

# Lobby groups fill as bots arrive; a game per group starts when the group is in. The
# ramp is gentle because the embedded endpoint answers one request at a time.
RAMP_BOTS_PER_S = {"duel": 20, "ffa": 40}  # one lobby per 2 or 6 bots
WARMUP_S = 10.0
MAX_STEPS = 10
# The matched-clients ceiling under --once: up from the capacity by halves, then a quarter
# and an eighth after failures; steps of half a minute or so at the counts measured here.
MATCHED_STEPS_ONCE = 8
ROLES = {
    ("duel", "lobby"): "lobby-duel",
    ("ffa", "lobby"): "lobby-ffa",
    ("duel", "matchmaking"): "match-duel",
    ("ffa", "matchmaking"): "match-ffa",
}
GROUP = {"duel": 2, "ffa": 6}


# `--stall-watch`: run stall_watch.py in the server (diagnosis; costs the server CPU).
STALL_WATCH = False
STALL_WATCH_ENV = "BENCH_STALL_WATCH"


def server_env(ws_port: int, api_port: int, endpoint: str, metrics: bool = True) -> dict[str, str]:
    return {
        **os.environ,
        "SNAKETRON_METRICS": "1" if metrics else "0",
        "SNAKETRON_WS_PORT": str(ws_port),
        "SNAKETRON_API_PORT": str(api_port),
        "SNAKETRON_API_RATE_PER_MIN": "0",
        "SNAKETRON_MAX_CONN_PER_IP": "100000",
        # The capacity search goes past the advertised 2,000 games (at 6,000 duel bots, 3,000
        # games): what the process holds is the question, not the configured cap.
        "SNAKETRON_MAX_GAMES": "0",
        "SNAKETRON_ARGON2_TIME_COST": "1",
        "SNAKETRON_ARGON2_MEMORY_KIB": "64",
        "SNAKETRON_ARGON2_PARALLELISM": "1",
        "SNAKETRON_MATCH_START_DELAY_MS": "1000",
        "SNAKETRON_LOG_LEVEL": "warning",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "SNAKETRON_DEV_MODE": "1",  # a loopback server on a benchmark-only endpoint
        STALL_WATCH_ENV: "1" if STALL_WATCH else "0",
    }


# --- the server child ----------------------------------------------------------------------------


async def serve_child() -> None:
    """`snaketron serve`, plus the host's tick statistics: SIGUSR1 starts them afresh (the
    steady state begins), SIGUSR2 takes them (it ends: the load generators' teardown,
    thousands of connections closing, is not part of it), SIGTERM prints them and stops."""
    from snaketron.config import Settings
    from snaketron.db import open_database
    from snaketron.game_server import GameServer
    from snaketron.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_json)
    from snaketron.games import HostStats
    from snaketron.loadtest.metrics import GcPauses
    from stall_watch import StallWatch

    pauses = GcPauses().install()  # the bare server counts its collections too
    # The stall watch (a watchdog thread waking every 10 ms, a loop heartbeat every 5 ms)
    # is a diagnosis the bare server does not carry: off unless asked for, so that the
    # two servers' CPU per player compares like with like (figure 1).
    stalls = StallWatch(pauses).start() if os.environ.get(STALL_WATCH_ENV) == "1" else None

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with open_database(settings) as db:
        server = GameServer(settings, db)
        await server.start()

        requests_before: collections.Counter[str] = collections.Counter()
        window_began = [time.monotonic()]

        def steady_state_begins() -> None:
            server.rooms.stats = HostStats()
            pauses.reset()
            if stalls is not None:
                stalls.reset()
            requests_before.clear()
            requests_before.update(db.metrics.requests)
            window_began[0] = time.monotonic()

        taken: dict = {}

        def steady_state_ends() -> None:
            stats = dataclasses.asdict(server.rooms.stats)
            stats["window_s"] = time.monotonic() - window_began[0]
            stats["running_games"] = len(server.rooms.running_games())
            stats["gc"] = pauses.summary()
            stats["stalls"] = stalls.summary() if stalls is not None else []
            # DynamoDB requests sent in the steady state, per operation (every attempt).
            stats["db_requests"] = dict(collections.Counter(db.metrics.requests) - requests_before)
            taken.update(stats)

        loop.add_signal_handler(signal.SIGUSR1, steady_state_begins)
        loop.add_signal_handler(signal.SIGUSR2, steady_state_ends)
        print("READY", flush=True)
        await stop.wait()
        if not taken:  # no steady state was announced: everything since the start
            steady_state_ends()
        print("STATS " + json.dumps(taken), flush=True)
        try:
            await asyncio.wait_for(server.stop(), 60)
        except TimeoutError:
            print("server stop took over 60 s", file=sys.stderr, flush=True)


# --- one step --------------------------------------------------------------------------------------


@dataclasses.dataclass
class CapacityStep:
    mode: str
    via: str  # lobby or matchmaking
    bots: int
    players_live: float
    p50_ms: float
    p99_ms: float
    command_p99_ms: float
    late_ticks: int
    max_lateness_ms: int
    errors: dict[str, int]
    frames_per_client_s: float
    bytes_per_frame: float
    server_cpu_percent: float  # of one core, over the steady state
    loadgen_cpu_percent: float  # all load generators together
    loadgen_cpu_percents: list[float]  # each load generator's
    endpoint_cpu_percent: float  # the DynamoDB endpoint: near 100% means it, not the server, is the limit
    gc_max_ms: list[float]  # the server's longest collection per generation in the steady state
    loadgen_gc_max_ms: list[float]  # the load generators' longest, per generation, from their steady state on
    games_finished_per_s: float  # on the server, in the steady state
    frames_per_write: float  # game event frames per transport write (a tick's go out in one)
    db_requests_per_s: dict[str, float]  # the server's DynamoDB requests in the steady state, per operation
    stalls: list[dict]  # the server loop's longest stalls (stall_watch.py)
    load: str
    metrics: bool = True  # SNAKETRON_METRICS, and /metrics scraped every second
    scrape_ms: list[float] = dataclasses.field(default_factory=list)  # each scrape's answer time
    # QueueForMatch sent -> MatchFound received, over the whole run (matchmaking only: 0 bots queued else).
    queue_to_match_p50_ms: float = 0.0
    queue_to_match_p99_ms: float = 0.0
    queue_to_match_count: int = 0

    @property
    def server_us_per_player_s(self) -> float:
        """The game server's CPU per player in a live game and second (issue 22's figure 1)."""
        return self.server_cpu_percent / 100 / max(1e-9, self.players_live) * 1e6

    def players_at_full_machine(self, cores: int) -> float:
        """Players at which the server, the load generators and the endpoint together would
        use every core, at this step's CPU per player: no count above it can hold here."""
        total = self.server_cpu_percent + self.loadgen_cpu_percent + self.endpoint_cpu_percent
        return self.players_live * cores * 100 / total if total > 0 else float("inf")

    @property
    def db_requests_per_game(self) -> float:
        """DynamoDB requests in the steady state per game finished in it: context for
        figure 4, whose judged value comes from bench_requests_per_game.py."""
        return sum(self.db_requests_per_s.values()) / max(1e-9, self.games_finished_per_s)

    @property
    def server_us_per_frame(self) -> float:
        """The server's CPU per game event frame it sent (what metrics must not raise)."""
        return cpu_us_per_frame(self.server_cpu_percent, self.frames_per_client_s * self.players_live)

    @property
    def traffic(self) -> Traffic:
        """What its players received, for the bare ceiling to send the same."""
        return Traffic(GROUP[self.mode], self.frames_per_client_s, int(self.bytes_per_frame))

    @property
    def holds(self) -> bool:
        # Errors are reported, not judged: they come from the embedded endpoint's limits
        # (lobby creation timing out), and they show as fewer players in live games.
        return self.players_live > 0 and self.p99_ms < P99_LIMIT_MS and self.late_ticks == 0


class CpuMeter:
    """CPU use of some processes over a window, as percent of one core."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.percent = [0.0] * len(pids)
        self._began: tuple[float, list[float]] | None = None

    def start(self) -> None:
        self._began = (time.monotonic(), [cpu_seconds(p) for p in self.pids])

    def stop(self) -> None:
        if self._began is None:
            return
        began, before = self._began
        elapsed = time.monotonic() - began
        try:
            self.percent = [
                round((cpu_seconds(p) - b) / elapsed * 100, 1) for p, b in zip(self.pids, before, strict=True)
            ]
        except OSError:
            pass  # a process ended first: keep zeros


def _follow(
    loadtests: list[subprocess.Popen],
    server: subprocess.Popen,
    endpoint_pid: int,
    meter: CpuMeter,
    seconds: float,
    timeout_s: float,
) -> None:
    """Wait for the load generators; once every one has announced its steady state,
    restart the server's tick statistics so that they cover the same window, and
    measure CPU over it."""
    announced = [threading.Event() for _ in loadtests]
    tails: list[list[str]] = [[] for _ in loadtests]

    def read(index: int) -> None:
        stream = loadtests[index].stderr
        assert stream is not None
        for line in stream:
            tails[index] = [*tails[index][-20:], line]
            if "steady state from now" in line:
                announced[index].set()

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(len(loadtests))]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout_s
    steady = False
    while time.monotonic() < deadline and any(p.poll() is None for p in loadtests):
        if all(event.is_set() for event in announced):
            steady = True
            break
        time.sleep(0.1)
    if steady:
        server.send_signal(signal.SIGUSR1)
        meter.start()
        profilers = _start_profilers(
            [
                ("server", server.pid),
                ("endpoint", endpoint_pid),
                *((f"loadgen{i}", p.pid) for i, p in enumerate(loadtests)),
            ],
            seconds,
        )
        time.sleep(max(1.0, seconds - 1.0))
        meter.stop()
        server.send_signal(signal.SIGUSR2)
        for profiler in profilers:
            profiler.wait(timeout=60)
    for loadtest in loadtests:
        try:
            loadtest.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            loadtest.kill()
    failed = [i for i, p in enumerate(loadtests) if p.returncode not in (0, 1)]
    if failed or not steady:
        raise RuntimeError(
            f"a load generator failed or never reached its steady state:\n{''.join(tails[failed[0] if failed else 0])}"
        )


# The endpoint's niceness (`--endpoint-nice`): DynamoDB is a remote service in production,
# here it shares the two cores; 0 runs it at everyone's priority.
ENDPOINT_NICE = 0

# Where py-spy writes flame graphs of the steady state (`--profile DIR`); None: no profiling.
PROFILE_DIR: str | None = None


def _start_profilers(named: list[tuple[str, int]], seconds: float) -> list:
    """py-spy on the server, the endpoint and every load generator for the steady state's window."""
    if PROFILE_DIR is None:
        return []
    os.makedirs(PROFILE_DIR, exist_ok=True)
    stamp = time.strftime("%H%M%S")
    return [
        subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds) - 2)),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                os.path.join(PROFILE_DIR, f"{stamp}-{name}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in named
    ]


class Scraper:
    """GET /metrics every second, as Prometheus would (the dev stack scrapes every 5 s)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answer_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Scraper:
        self._thread.start()
        return self

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.answer_ms

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    response.read()
            except OSError:
                continue  # counted by its absence
            self.answer_ms.append(round((time.perf_counter() - began) * 1000, 1))


def measure(mode: str, via: str, bots: int, seconds: float, loadgens: int, metrics: bool = True) -> CapacityStep:
    from snaketron.loadtest.metrics import Latency

    ws_port, api_port = free_port(), free_port()
    endpoint = EmbeddedEndpoint(niceness=ENDPOINT_NICE)  # a fresh one per step
    endpoint_url = endpoint.start()
    endpoint_pid = endpoint.pid
    assert endpoint_pid is not None
    env = server_env(ws_port, api_port, endpoint_url, metrics)
    scraper = Scraper(f"http://127.0.0.1:{api_port}/metrics")
    server = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve-child"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    load_before = load_average()
    shares = split_groups(bots, GROUP[mode], loadgens)
    ramp = RAMP_BOTS_PER_S[mode]
    duration = bots / ramp + WARMUP_S + seconds
    try:
        if server.stdout.readline().strip() != "READY":
            raise RuntimeError("the game server did not start")
        if metrics:
            scraper.start()
        with tempfile.TemporaryDirectory() as folder:
            outputs = [os.path.join(folder, f"report{i}.json") for i in range(len(shares))]
            loadtests = [
                subprocess.Popen(
                    [
                        "snaketron",
                        "loadtest",
                        "--ws-url",
                        f"ws://127.0.0.1:{ws_port}/ws",
                        "--api-url",
                        f"http://127.0.0.1:{api_port}",
                        "--bots",
                        str(share),
                        "--ramp",
                        str(ramp * share / bots),
                        "--duration",
                        str(duration),
                        "--scenario",
                        "mix",
                        "--mix",
                        f"{ROLES[(mode, via)]}=1",
                        "--game-seconds",
                        str(duration + 60),
                        "--warmup",
                        str(WARMUP_S),
                        "--finish-grace",
                        "0",
                        "--user-prefix",
                        f"cap{mode}{i}x",
                        "--sign-in-first",
                        "--max-error-rate",
                        "1",
                        "--no-progress",
                        "--json",
                        output,
                    ],
                    env={**os.environ, "TERM": "dumb"},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for i, (share, output) in enumerate(zip(shares, outputs, strict=True))
            ]
            meter = CpuMeter([server.pid, endpoint_pid, *(p.pid for p in loadtests)])
            _follow(loadtests, server, endpoint_pid, meter, seconds, timeout_s=duration + 180)
            reports = []
            for output in outputs:
                with open(output) as source:
                    reports.append(json.load(source))
    finally:
        scrape_ms = scraper.stop() if metrics else []
        server.send_signal(signal.SIGTERM)
        try:
            stdout, _ = server.communicate(timeout=120)
        except subprocess.TimeoutExpired:  # its figures are out; its shutdown is not measured
            server.kill()
            stdout, _ = server.communicate()
        endpoint.stop()
    stats = json.loads(next(line for line in stdout.splitlines() if line.startswith("STATS "))[6:])
    delivery = Latency.merged([r["latency_hdr"]["event_delivery"] for r in reports]).summary()
    command = Latency.merged([r["latency_hdr"]["command_to_scheduled"] for r in reports]).summary()
    queued = Latency.merged([r["latency_hdr"]["queue_to_match"] for r in reports]).summary()
    players = sum(r["players_live_mean"] for r in reports)
    frames = sum(r["steady_frames_received"] for r in reports)
    frames_per_s = sum(r["steady_frames_received"] / max(1e-9, r["steady_s"]) for r in reports)
    errors: collections.Counter[str] = collections.Counter()
    for report in reports:
        errors.update(report["errors"])
    return CapacityStep(
        mode=mode,
        via=via,
        bots=bots,
        players_live=players,
        p50_ms=delivery.p50_ms,
        p99_ms=delivery.p99_ms,
        command_p99_ms=command.p99_ms,
        late_ticks=stats["late_ticks"],
        max_lateness_ms=stats["max_lateness_ms"],
        errors=dict(errors),
        frames_per_client_s=round(frames_per_s / max(1.0, players), 2),
        bytes_per_frame=round(sum(r["steady_bytes_received"] for r in reports) / max(1, frames), 1),
        server_cpu_percent=meter.percent[0],
        endpoint_cpu_percent=meter.percent[1],
        loadgen_cpu_percent=round(sum(meter.percent[2:]), 1),
        loadgen_cpu_percents=meter.percent[2:],
        gc_max_ms=stats["gc"]["max_ms"],
        loadgen_gc_max_ms=[max(r["load_generator_gc"]["max_ms"][g] for r in reports) for g in range(3)],
        games_finished_per_s=round(stats["games_finished"] / stats["window_s"], 1),
        frames_per_write=round(stats["frames_sent"] / max(1, stats["writes"]), 2),
        stalls=stats["stalls"],
        db_requests_per_s={op: round(n / stats["window_s"], 1) for op, n in sorted(stats["db_requests"].items())},
        load=f"{load_before} -> {load_average()}",
        metrics=metrics,
        scrape_ms=scrape_ms,
        queue_to_match_p50_ms=queued.p50_ms,
        queue_to_match_p99_ms=queued.p99_ms,
        queue_to_match_count=queued.count,
    )


def search(
    mode: str, via: str, start: int, step: int, seconds: float, loadgens: int
) -> tuple[CapacityStep | None, list]:
    """Raise the bot count by `step` while it holds; halve the step after a failure
    (`climb`). Returns the largest count that held, and every step measured."""

    def measure_at(bots: int) -> CapacityStep:
        result = measure(mode, via, bots, seconds, loadgens)
        print_step(result)
        return result

    group = GROUP[mode]
    steps = climb(measure_at, start=start, step=step, unit=group, floor=group, largest=sys.maxsize, max_steps=MAX_STEPS)
    best = max((s for s in steps if s.holds), key=lambda s: s.bots, default=None)
    return best, steps


def print_step(result: CapacityStep) -> None:
    queued = (
        f"queue-to-match p50 {result.queue_to_match_p50_ms:.1f} p99 {result.queue_to_match_p99_ms:.1f} ms "
        f"({result.queue_to_match_count} matches), "
        if result.queue_to_match_count
        else ""
    )
    scraped = (
        f"on ({len(result.scrape_ms)} scrapes, slowest {max(result.scrape_ms, default=0)} ms)"
        if result.metrics
        else "off"
    )
    print(
        f"  {result.mode} via {result.via} {result.bots:>5} bots ({result.players_live:.0f} live): delivery p50 {result.p50_ms:.1f} "
        f"p99 {result.p99_ms:.1f} ms, command p99 {result.command_p99_ms:.1f} ms, late ticks "
        f"{result.late_ticks} (max {result.max_lateness_ms} ms), errors {result.errors or 0}, "
        f"{result.frames_per_client_s} frames/client/s of {result.bytes_per_frame} B, cpu server "
        f"{result.server_cpu_percent}% ({result.server_us_per_player_s:.1f} us per player-second) "
        f"loadgen {result.loadgen_cpu_percent}% {result.loadgen_cpu_percents} endpoint {result.endpoint_cpu_percent}%, "
        f"{queued}"
        f"server gc max {result.gc_max_ms} ms, load generators' {result.loadgen_gc_max_ms} ms, games finished {result.games_finished_per_s}/s, "
        f"event frames per write {result.frames_per_write}, "
        f"requests/s {result.db_requests_per_s}, "
        f"load {result.load}, server {result.server_us_per_frame:.1f} us CPU per frame sent, metrics {scraped} "
        f"-> {'holds' if result.holds else 'fails'}",
        flush=True,
    )
    for stall in result.stalls:
        print(
            f"    server stall {stall['gap_ms']} ms: its own CPU {stall['own_cpu_ms']} ms, "
            f"{stall['gc_ms']} ms collecting, {stall['major_faults']} major faults",
            flush=True,
        )
        if stall["stack"] and stall["own_cpu_ms"] > stall["gap_ms"] / 2:
            print("      " + "\n      ".join(stall["stack"][-4:]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--modes", default="duel,ffa")
    parser.add_argument(
        "--via",
        default="lobby",
        help="lobby, matchmaking or both (lobby,matchmaking): how games form; the first is the reference "
        "for figures 1, 2 and 5, and with both the matchmade capacity is compared with it (figure 3)",
    )
    parser.add_argument("--start", type=int, default=600)
    parser.add_argument("--step", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=15.0, help="steady-state seconds per step")
    parser.add_argument(
        "--no-ceiling", action="store_true", help="measure the game server only: no bare server at all (profiling)"
    )
    parser.add_argument(
        "--receive-ceiling",
        action="store_true",
        help="also search the bare server's ceiling with reading clients (the earlier capacity ratio, context)",
    )
    parser.add_argument(
        "--endpoint-nice",
        type=int,
        default=0,
        help="run the DynamoDB endpoint at this niceness (10: it takes the CPU the server and bots leave)",
    )
    parser.add_argument(
        "--matched-clients",
        action="store_true",
        help="figure 2: the ceiling with clients that spend the bots' CPU per frame, searched from the capacity up",
    )
    parser.add_argument(
        "--stall-watch",
        action="store_true",
        help="watch the server loop's stalls (stall_watch.py): prints each long stall's culprit, costs the server CPU",
    )
    parser.add_argument(
        "--once", action="store_true", help="measure the --start count only (per --via), no capacity search"
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="py-spy (pip install py-spy) the steady state of each step into DIR (raw collapsed stacks)",
    )
    parser.add_argument(
        "--metrics-ab",
        type=int,
        metavar="PAIRS",
        default=0,
        help="measure the --start count PAIRS times with metrics off and on (scraped every second), alternating",
    )
    parser.add_argument(
        "--loadgens", type=int, default=2, help="load generator processes (one event loop alone queues arrivals)"
    )
    args = parser.parse_args()
    if args.serve_child:
        import uvloop

        uvloop.run(serve_child())
        return
    vias = args.via.split(",")
    for via in vias:
        if via not in ("lobby", "matchmaking"):
            parser.error(f"--via: {via!r} is neither lobby nor matchmaking")
    if args.profile is not None and shutil.which("py-spy") is None:
        parser.error("--profile needs py-spy on PATH (pip install py-spy)")
    print(
        f"capacity: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M %Z')}, "
        f"via {args.via}, load {load_average()}, compiled modules: {', '.join(compiled_modules()) or 'none'}",
        flush=True,
    )
    global PROFILE_DIR, ENDPOINT_NICE, STALL_WATCH
    PROFILE_DIR = args.profile
    STALL_WATCH = args.stall_watch
    ENDPOINT_NICE = args.endpoint_nice
    for mode in args.modes.split(","):
        if args.metrics_ab:
            metrics_cost(mode, vias[0], args.start, args.seconds, args.loadgens, args.metrics_ab)
            continue
        began = time.monotonic()
        figures = Figures(mode, once=args.once)
        for via in vias:
            best, steps = search(mode, via, args.start, 0 if args.once else args.step, args.seconds, args.loadgens)
            if args.once:
                best = steps[0]  # the one count measured: its figures, held or not (the table says which)
            if best is None:
                print(f"{mode} via {via}: no step held", flush=True)
                continue
            figures.capacity[via] = best
            held = "" if best.holds else " (the step FAILED: not a capacity)"
            print(
                f"{mode} via {via}: capacity {best.players_live:.0f} players in live games ({best.bots} bots){held}",
                flush=True,
            )
        reference = figures.capacity.get(vias[0])
        if reference is not None and not args.no_ceiling:
            measure_bare(figures, reference, args)
        print_figures(figures, vias)
        print(f"{mode}: measured in {(time.monotonic() - began) / 60:.1f} min, load {load_average()}", flush=True)


def measure_bare(figures: Figures, reference: CapacityStep, args: argparse.Namespace) -> None:
    """The bare server next to the reference step: at its count with its traffic (figures 1
    and 5), then, if asked, its ceilings with matched clients (figure 2) and reading ones."""
    # Reading clients in as many processes as there were load generators, whole groups each.
    bare = measure_ceiling(reference.bots, reference.traffic, args.seconds, ClientLoad(args.loadgens, 0.0))
    print(describe(bare, "bare server at the same count,"), flush=True)
    figures.bare = bare
    if args.matched_clients:
        figures.matched_ceiling, figures.matched_reached = matched_ceiling(
            reference, bare, args.seconds, args.loadgens, args.once
        )
    if args.receive_ceiling:
        ceiling, _ = find_ceiling(
            reference.traffic,
            start=reference.bots,
            step=reference.bots,
            seconds=args.seconds,
            unit=GROUP[reference.mode],
            log=lambda line: print(line, flush=True),
        )
        ratio = reference.players_live / ceiling if ceiling else float("nan")
        print(f"{reference.mode}: bare ceiling, reading clients, {ceiling} clients; capacity ratio {ratio:.2f}")


@dataclasses.dataclass
class Figures:
    """Issue 22's figures for one mode, as measured in this run."""

    mode: str
    once: bool
    capacity: dict[str, CapacityStep] = dataclasses.field(default_factory=dict)  # per --via
    bare: CeilingStep | None = None  # the bare server at the reference's count and traffic
    matched_ceiling: int | None = None  # clients; None: not measured
    matched_reached: bool = True  # False: every step held, the ceiling is higher still
    cores: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)


# Issue 22's targets: figures 1 and 2 at least this ratio; figure 3 within this fraction.
EFFICIENCY_TARGET = 0.8
MATCHED_TARGET = 0.8
MATCHMAKING_TOLERANCE = 0.10


def judged(ratio: float, met: bool) -> str:
    return f"{ratio:.2f} | {'met' if met else 'NOT MET'}"


def matched_row(figures: Figures, reference: CapacityStep) -> tuple[str, str, str, str]:
    """Figure 2, judged only as far as the run can tell. A searched capacity is the
    capacity; a --once count is only a lower bound, and the count at which the game
    step would use the whole machine is an upper one. A ceiling no step failed is a
    lower bound. Met when even the lowest ratio reaches the target; NOT MET when even
    the highest misses it; unknown in between."""
    ceiling = figures.matched_ceiling
    assert ceiling  # measured
    players = reference.players_live
    capacity_high = reference.players_at_full_machine(figures.cores) if figures.once else players
    low = players / ceiling if figures.matched_reached else 0.0
    high = capacity_high / ceiling
    notes = []
    if figures.once:
        notes.append(
            f"capacity not searched: at most {capacity_high:.0f} players, where the game step's CPU fills the machine"
        )
    if not figures.matched_reached:
        notes.append("ceiling not reached: at least this")
    if low >= MATCHED_TARGET:
        verdict = judged(low, True)
    elif high < MATCHED_TARGET:
        verdict = f"<= {high:.2f} | NOT MET"
    else:
        verdict = f"{low:.2f}-{high:.2f} | unknown (search higher)"
    return (
        "2. capacity / matched-clients ceiling",
        f"{players:.0f} players / {ceiling} clients" + (f" ({'; '.join(notes)})" if notes else ""),
        verdict,
        f">= {MATCHED_TARGET}",
    )


def print_figures(figures: Figures, vias: list[str]) -> None:
    """The final table: every figure, and each ratio against its target."""
    mode = figures.mode
    reference = figures.capacity.get(vias[0])
    rows: list[tuple[str, str, str, str]] = []  # figure, values, ratio and verdict, target
    if reference is not None and figures.bare is not None:
        game_us, bare_us = reference.server_us_per_player_s, figures.bare.server_us_per_client_s
        efficiency = bare_us / game_us if game_us else float("nan")
        rows.append(
            (
                f"1. CPU efficiency ({reference.bots} clients, via {reference.via})",
                f"bare {bare_us:.1f} us per client-second / game {game_us:.1f} us per player-second",
                judged(efficiency, efficiency >= EFFICIENCY_TARGET),
                f">= {EFFICIENCY_TARGET}",
            )
        )
    if reference is not None and figures.matched_ceiling:
        rows.append(matched_row(figures, reference))
    lobby, matchmade = figures.capacity.get("lobby"), figures.capacity.get("matchmaking")
    if lobby is not None and matchmade is not None:
        ratio = matchmade.players_live / lobby.players_live if lobby.players_live else 0.0
        rows.append(
            (
                "3. capacity via matchmaking / via lobby",
                f"{matchmade.players_live:.0f} / {lobby.players_live:.0f} players, "
                f"queue-to-match p99 {matchmade.queue_to_match_p99_ms:.0f} ms",
                judged(ratio, ratio >= 1 - MATCHMAKING_TOLERANCE),
                f"within {MATCHMAKING_TOLERANCE:.0%} (>= {1 - MATCHMAKING_TOLERANCE:.2f})",
            )
        )
    for step in figures.capacity.values():
        rows.append(
            (
                f"4. (context) DynamoDB requests per game finished, via {step.via}",
                f"{sum(step.db_requests_per_s.values()):.1f} requests/s, {step.games_finished_per_s} games/s",
                f"{step.db_requests_per_game:.2f} | see bench_requests_per_game.py",
                "<= 4 concurrent",
            )
        )
    if reference is not None and figures.bare is not None:
        game_us, bare_us = reference.server_us_per_player_s, figures.bare.server_us_per_client_s
        rows.append(
            (
                "5. players per core (1,000,000 / us per player-second)",
                f"game {1e6 / max(1e-9, game_us):,.0f} players, bare {1e6 / max(1e-9, bare_us):,.0f} clients",
                f"{bare_us / game_us if game_us else float('nan'):.2f} | (figure 1's ratio)",
                "-",
            )
        )
    print(f"\n{mode}: issue 22's figures", flush=True)
    for via, step in figures.capacity.items():
        status = "holds" if step.holds else "FAILED"
        kind = "the --once count" if figures.once else "the largest count that held"
        print(f"  via {via}: {kind}, {step.bots} bots, {step.players_live:.0f} live, {status}", flush=True)
    print("| figure | measured | ratio | verdict | target |\n|---|---|---|---|---|")
    for figure, values, verdict, target in rows:
        print(f"| {figure} | {values} | {verdict} | {target} |", flush=True)
    if reference is not None and not all(step.holds for step in figures.capacity.values()):
        print(f"{mode}: a step failed, so a ratio built on its capacity is no capacity ratio", flush=True)


def metrics_cost(mode: str, via: str, bots: int, seconds: float, loadgens: int, pairs: int) -> None:
    """The same step with metrics off and on, alternating so that drift in the machine's
    other load falls on both alike; compares the server's CPU per frame sent."""
    steps: dict[bool, list[CapacityStep]] = {False: [], True: []}
    for _ in range(pairs):
        for metrics in (False, True):
            step = measure(mode, via, bots, seconds, loadgens, metrics)
            print_step(step)
            steps[metrics].append(step)
    off, on = (statistics.fmean(s.server_us_per_frame for s in steps[m]) for m in (False, True))
    print(
        f"{mode}: server CPU per frame sent, metrics off {off:.1f} us, on {on:.1f} us ({(on - off) / off:+.1%}); "
        f"delivery p99 off {[s.p99_ms for s in steps[False]]} ms, on {[s.p99_ms for s in steps[True]]} ms",
        flush=True,
    )


def cpu_us_per_frame(cpu_percent: float, frames_per_s: float) -> float:
    return cpu_percent / 100 / max(1e-9, frames_per_s) * 1e6


def matched_ceiling(
    best: CapacityStep, reader: CeilingStep, seconds: float, loadgens: int, once: bool
) -> tuple[int, bool]:
    """The bare ceiling with clients that cost the machine what the bots cost (figure 2).

    Reading clients spend a fraction of a playing bot's CPU per frame, and on a machine
    whose cores the server shares with its clients that alone keeps the ratio low
    whatever the server does. Here each client also spends, per frame, the difference
    (calibrated busy work), in as many processes as there were load generators, so that
    the ratio compares the game server with a bare one. `reader`: the bare server at the
    capacity's count with reading clients. The search starts at the capacity and climbs
    in whole groups, half of it at a time (a quarter, then an eighth after failures), at
    most MATCHED_STEPS_ONCE steps with `once`. Returns the ceiling in clients (0: none
    held) and whether a step failed above it (False: the ceiling is at least that)."""
    mode = best.mode
    group = GROUP[mode]
    bot_us = cpu_us_per_frame(best.loadgen_cpu_percent, best.frames_per_client_s * best.players_live)
    reader_us = cpu_us_per_frame(reader.client_cpu_percent, reader.frames_received_per_s)
    work_us = max(0.0, bot_us - reader_us)
    # Busy work calibrated on a quiet process costs a little more or less among thousands
    # of connections: one trial step at the capacity's count scales it to what it costs there.
    trial = measure_ceiling(best.bots, best.traffic, seconds, ClientLoad(loadgens, work_us))
    print(describe(trial, "trial of the busy work,"), flush=True)
    trial_us = cpu_us_per_frame(trial.client_cpu_percent, trial.frames_received_per_s)
    if trial_us > reader_us:
        work_us *= max(0.0, bot_us - reader_us) / (trial_us - reader_us)
    work_us = round(work_us, 1)
    print(
        f"{mode}: bots spend {bot_us:.0f} us of CPU per frame received, reading clients {reader_us:.0f} us "
        f"(trial with busy work: {trial_us:.0f} us): ceiling again with {work_us} us of busy work per frame, "
        f"{loadgens} client processes",
        flush=True,
    )
    matched, matched_steps = find_ceiling(
        best.traffic,
        start=best.bots,
        step=max(group, best.bots // 2),
        seconds=seconds,
        load=ClientLoad(loadgens, work_us),
        log=lambda line: print(line, flush=True),
        unit=group,
        max_steps=MATCHED_STEPS_ONCE if once else MAX_CEILING_STEPS,
    )
    top = highest_held(matched_steps)
    if top is not None:
        achieved = cpu_us_per_frame(top.client_cpu_percent, top.frames_received_per_s)
        print(f"{mode}: matched clients spent {achieved:.0f} us of CPU per frame (bots: {bot_us:.0f})", flush=True)
    reached = any(not step.holds and step.clients > matched for step in matched_steps)
    bound = "" if reached else f"at least (no step above it failed in {len(matched_steps)} steps) "
    ratio = best.players_live / matched if matched else float("nan")
    print(f"{mode}: ceiling with matched clients {bound}{matched} clients; capacity ratio {ratio:.2f}", flush=True)
    return matched, reached


if __name__ == "__main__":
    main()
