"""The machine's ceiling: a bare WebSocket broadcast server with no game logic.

Same shape of traffic as the game server: clients are grouped as games (2 or 6),
each group has its own 10 Hz timer on the event loop (as each hosted game has),
and each tick the group gets its share of frames of the measured size, each
encoded once and pushed to every member with websockets' `broadcast`. Server and
clients run in two processes (uvloop), like the game server and the load test.
A frame carries the server time it was sent at; the clients record the delivery
latency in an HDR histogram after a warm-up.

    python benchmarks/bench_broadcast_ceiling.py --clients 2000 --group 2 \
        --frames-per-client 6 --frame-bytes 180 --seconds 15

`measure(...)` runs one step; bench_capacity.py runs one at the game server's
player count with the traffic its players saw, in the same run, for the CPU per
client-second (issue 22's figure 1). `find_ceiling(...)` raises the client count
until p99 delivery reaches 50 ms or a group's timer falls more than one tick behind.
Each step prints the load average before and after it and every process's CPU.

With `--client-work-us W` every client spends W µs of CPU per frame received
(calibrated busy work) and `--client-processes N` spreads the clients over N
processes: the bare server then shares the cores with a client load that costs
what the load generator's bots cost, so that the ratio compares the two servers
and not a playing client with a reading one. bench_capacity.py reports that
ceiling apart, next to the receive-only one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol, TypeVar

TICK_MS = 100
P99_LIMIT_MS = 50.0
WARMUP_S = 3.0
CONNECT_TIMEOUT_S = 60.0
# Bounds on the search, whatever the machine does.
MAX_CLIENTS = 20_000
MAX_STEPS = 12


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Traffic:
    """What the clients get, as in the games measured: groups of `group` clients (a game's
    players), each client `frames_per_client_s` frames a second of `frame_bytes`."""

    group: int
    frames_per_client_s: float
    frame_bytes: int


@dataclass(frozen=True)
class ClientLoad:
    """The clients' side: how many processes they run in, and the busy work each does
    per frame received (0: they only read)."""

    processes: int = 1
    work_us: float = 0.0


READING_CLIENTS = ClientLoad()


@dataclass
class CeilingStep:
    clients: int
    group: int
    frames_per_client_s: float
    frame_bytes: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    frames_received_per_s: float
    late_ticks: int
    gc_max_ms: list[float]  # the bare server's longest collection per generation, in the window
    max_lateness_ms: float
    connected: int
    server_cpu_percent: float  # of one core, over the measured window
    client_cpu_percent: float  # all client processes together
    client_processes: int = 1
    client_work_us: float = 0.0  # busy work per frame received, per client
    client_cpu_percents: list[float] = field(default_factory=list)  # each client process's
    load: str = ""  # the load average before and after the step

    @property
    def holds(self) -> bool:
        return self.connected == self.clients and self.p99_ms < P99_LIMIT_MS and self.late_ticks == 0

    @property
    def server_us_per_client_s(self) -> float:
        """The bare server's CPU per connected client and second (issue 22's figure 1)."""
        return self.server_cpu_percent / 100 / max(1, self.connected) * 1e6


# --- the bare server ----------------------------------------------------------------------


async def serve(port: int, group: int, frames_per_client_s: float, frame_bytes: int) -> None:
    from websockets.asyncio.server import broadcast
    from websockets.asyncio.server import serve as ws_serve

    loop = asyncio.get_running_loop()
    groups: list[list] = [[]]
    stats = {"late_ticks": 0, "max_lateness_ms": 0.0, "frames": 0}
    frames_per_tick = frames_per_client_s * TICK_MS / 1000
    padding = "x" * frame_bytes

    def tick(members: list, due: float, carry: float) -> None:
        now = time.time() * 1000
        lateness = now - due
        stats["max_lateness_ms"] = max(stats["max_lateness_ms"], lateness)
        if lateness > TICK_MS:
            stats["late_ticks"] += 1
        carry += frames_per_tick
        while carry >= 1:
            carry -= 1
            # One encode per frame for the whole group, as the game server does.
            head = json.dumps({"t": time.time() * 1000, "p": ""})
            frame = head[:-2] + padding[: max(0, frame_bytes - len(head))] + '"}'
            open_members = [m for m in members if m.state.name == "OPEN"]
            if open_members:
                broadcast(open_members, frame)
                stats["frames"] += len(open_members)
        due += TICK_MS
        loop.call_later(max(0.0, (due - time.time() * 1000) / 1000), tick, members, due, carry)

    async def handler(connection) -> None:
        current = groups[-1]
        current.append(connection)
        if len(current) == group:
            groups.append([])
            start = time.time() * 1000
            loop.call_later(TICK_MS / 1000, tick, current, start + TICK_MS, 0.0)
        await connection.wait_closed()

    # The game server's garbage collection policy, so that the ceiling is not set by
    # full collections over thousands of connections (without it one pause of 440 ms
    # made 6,000 clients fail at 45% CPU): the same CollectorPolicy, same settings.
    from snaketron.config import Settings
    from snaketron.gc_policy import CollectorPolicy
    from snaketron.loadtest.metrics import GcPauses

    pauses = GcPauses().install()
    CollectorPolicy(Settings.from_env(), games_running=lambda: True).start()

    def steady_state_begins() -> None:
        # The clients' ramp (a storm of handshakes) is not what is measured.
        stats.update(late_ticks=0, max_lateness_ms=0.0, frames=0)
        pauses.reset()

    taken: dict = {}

    def steady_state_ends() -> None:
        # Nor is their teardown (thousands of connections closing at once).
        taken.update(stats, gc_max_ms=pauses.summary()["max_ms"])

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, steady_state_begins)
    loop.add_signal_handler(signal.SIGUSR2, steady_state_ends)
    async with ws_serve(handler, "127.0.0.1", port, compression=None):
        print("READY", flush=True)
        await stop.wait()
    if not taken:
        steady_state_ends()
    print("STATS " + json.dumps(taken), flush=True)


# --- the clients ----------------------------------------------------------------------------


class BusyWork:
    """A fixed amount of CPU work, calibrated once: the stand-in for what a playing bot
    does per frame (its brain, its mirror game, its turns). Counted in loop rounds, not
    in elapsed time, so that a client preempted halfway still spends the whole cost."""

    CALIBRATION_ROUNDS = 200_000

    def __init__(self, microseconds: float) -> None:
        self.rounds = 0
        if microseconds > 0:
            fastest = min(self._timed(self.CALIBRATION_ROUNDS) for _ in range(5))
            self.rounds = max(1, round(microseconds / 1e6 / fastest * self.CALIBRATION_ROUNDS))

    @staticmethod
    def _timed(rounds: int) -> float:
        # This thread's CPU time, not the wall clock: on cores shared with other work a
        # preempted calibration read as slow spinning, so the rounds came out too few and
        # each process's clients cost a different amount (a tool check on a loaded
        # machine: 42 us of work per frame cost 20).
        began = time.thread_time()
        BusyWork._spin(rounds)
        return time.thread_time() - began

    @staticmethod
    def _spin(rounds: int) -> int:
        total = 0
        for i in range(rounds):
            total += i
        return total

    def __call__(self) -> None:
        if self.rounds:
            self._spin(self.rounds)


async def clients(
    url: str, count: int, seconds: float, ramp_per_s: float, server_pid: int, *, work_us: float, signals: bool
) -> dict:
    """Clients on the load generator's own connection class (`LeanConnection`, which hands
    each frame to a callback as it arrives): the ceiling and the game server's capacity
    are measured with the same client code, so their ratio compares servers. They only
    read, unless `work_us` gives them busy work per frame. `signals`: this process tells
    the server when the measured window begins (one client process of several does)."""
    from snaketron.loadtest.connection import LeanConnection
    from snaketron.loadtest.metrics import Latency

    latency = Latency()
    work = BusyWork(work_us)
    state = {"measuring": False, "frames": 0}
    connections: list[LeanConnection] = []

    def on_frame(frame: bytes) -> None:
        now = time.time() * 1000
        if state["measuring"]:
            latency.record_ms(now - json.loads(frame)["t"])
            state["frames"] += 1
        work()

    async def one(index: int) -> None:
        await asyncio.sleep(index / ramp_per_s)
        try:
            connections.append(await LeanConnection.open(url, on_frame, open_timeout=CONNECT_TIMEOUT_S))
        except Exception:  # a refused client shows as connected < count
            pass

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    await asyncio.sleep(count / ramp_per_s + WARMUP_S)
    state["measuring"] = True
    if signals:
        os.kill(server_pid, signal.SIGUSR1)
    cpu_before = (cpu_seconds(server_pid), cpu_seconds(os.getpid()))
    await asyncio.sleep(seconds)
    state["measuring"] = False
    if signals:
        os.kill(server_pid, signal.SIGUSR2)
    cpu_after = (cpu_seconds(server_pid), cpu_seconds(os.getpid()))
    connected = sum(1 for c in connections if c.is_open)  # a dropped client does not count
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=10)
    await asyncio.gather(*(c.close(timeout=5) for c in connections), return_exceptions=True)
    return {
        "latency_hdr": latency.encoded(),
        "frames_received_per_s": state["frames"] / seconds,
        "connected": connected,
        "server_cpu_percent": round((cpu_after[0] - cpu_before[0]) / seconds * 100, 1),
        "client_cpu_percent": round((cpu_after[1] - cpu_before[1]) / seconds * 100, 1),
    }


# --- one step and the search ------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def split_groups(count: int, group: int, parts: int) -> list[int]:
    """Clients (or bots) per process: whole groups each, as even as they come."""
    groups = count // group
    return [(groups // parts + (1 if i < groups % parts else 0)) * group for i in range(parts) if groups > i]


def highest_held(steps: list[CeilingStep]) -> CeilingStep | None:
    return max((step for step in steps if step.holds), key=lambda step: step.clients, default=None)


Step = TypeVar("Step", bound="Holds")


class Holds(Protocol):
    @property
    def holds(self) -> bool: ...


def climb(
    measure_at: Callable[[int], Step], *, start: int, step: int, unit: int, floor: int, largest: int, max_steps: int
) -> list[Step]:
    """The search both benchmarks run: measure at `start`, then up by `step` while a count
    holds; after a failure halve the step and go on from just above the best count held
    (half the failing count, at least `floor`, when none held yet), until a failure with
    a step of `floor` or `start // 8` or less. Counts are whole `unit`s and at most
    `largest`; a step of 0 measures `start` once. Returns every step measured, in order."""
    steps: list[Step] = []
    best = 0
    count = start
    for _ in range(max_steps):
        count = max(unit, count // unit * unit)
        if count > largest:
            break
        result = measure_at(count)
        steps.append(result)
        if step == 0:
            break
        if result.holds:
            best = count
            count += step
            continue
        if step <= max(floor, start // 8):
            break
        step //= 2
        count = best + step if best else max(floor, count // 2)
    return steps


def measure(clients_count: int, traffic: Traffic, seconds: float, load: ClientLoad = READING_CLIENTS) -> CeilingStep:
    """One server process and `load.processes` client processes (whole groups each),
    `seconds` of measuring after the ramp."""
    from snaketron.loadtest.metrics import Latency

    port = free_port()
    load_before = load_average()
    script = os.path.abspath(__file__)
    server = subprocess.Popen(
        [sys.executable, script, "--serve", str(port), "--group", str(traffic.group),
         "--frames-per-client", str(traffic.frames_per_client_s), "--frame-bytes", str(traffic.frame_bytes)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "READY":
            raise RuntimeError("the bare server did not start")
        shares = split_groups(clients_count, traffic.group, load.processes)
        # The processes connect side by side, so their groups interleave on the server;
        # members of one group may then sit in different processes, as with the bots.
        runs = [
            subprocess.Popen(
                [
                    sys.executable,
                    script,
                    "--client",
                    f"ws://127.0.0.1:{port}/",
                    "--clients",
                    str(share),
                    "--seconds",
                    str(seconds),
                    "--server-pid",
                    str(server.pid),
                    "--client-work-us",
                    str(load.work_us),
                    *(["--signals"] if i == 0 else []),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i, share in enumerate(shares)
        ]
        timeout = clients_count / 500 + seconds + WARMUP_S + 120
        parts = [json.loads(run.communicate(timeout=timeout)[0].strip().splitlines()[-1]) for run in runs]
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    stats = json.loads(next(line for line in out.splitlines() if line.startswith("STATS "))[6:])
    delivery = Latency.merged([part["latency_hdr"] for part in parts]).summary()
    return CeilingStep(
        clients=clients_count,
        group=traffic.group,
        frames_per_client_s=traffic.frames_per_client_s,
        frame_bytes=traffic.frame_bytes,
        p50_ms=delivery.p50_ms,
        p99_ms=delivery.p99_ms,
        max_ms=delivery.max_ms,
        frames_received_per_s=sum(part["frames_received_per_s"] for part in parts),
        late_ticks=stats["late_ticks"],
        gc_max_ms=stats["gc_max_ms"],
        max_lateness_ms=round(stats["max_lateness_ms"], 1),
        connected=sum(part["connected"] for part in parts),
        server_cpu_percent=parts[0]["server_cpu_percent"],
        client_cpu_percent=round(sum(part["client_cpu_percent"] for part in parts), 1),
        client_processes=load.processes,
        client_work_us=load.work_us,
        client_cpu_percents=[part["client_cpu_percent"] for part in parts],
        load=f"{load_before} -> {load_average()}",
    )


def describe(result: CeilingStep, label: str = "ceiling") -> str:
    """One step on one line: latency, the load average and every process's CPU."""
    return (
        f"  {label} {result.clients:>6} clients: p99 {result.p99_ms:6.1f} ms, late ticks {result.late_ticks}, "
        f"connected {result.connected}, {result.frames_received_per_s:,.0f} frames/s, cpu server "
        f"{result.server_cpu_percent}% ({result.server_us_per_client_s:.1f} us per client-second) clients "
        f"{result.client_cpu_percent}% {result.client_cpu_percents} (busy work {result.client_work_us:.1f} us/frame), "
        f"server gc max {result.gc_max_ms} ms, load {result.load} -> {'holds' if result.holds else 'fails'}"
    )


def find_ceiling(
    traffic: Traffic,
    *,
    start: int,
    step: int,
    seconds: float,
    load: ClientLoad = READING_CLIENTS,
    log=print,
    unit: int = 1,
    max_steps: int = MAX_STEPS,
) -> tuple[int, list[CeilingStep]]:
    """The most clients (in steps, `climb`; whole `unit`s, at most `max_steps`) the bare
    server holds, and every step measured."""

    def measure_at(clients_count: int) -> CeilingStep:
        result = measure(clients_count, traffic, seconds, load)
        log(describe(result))
        return result

    floor = max(1, 50 // unit) * unit
    steps = climb(measure_at, start=start, step=step, unit=unit, floor=floor, largest=MAX_CLIENTS, max_steps=max_steps)
    top = highest_held(steps)
    return (top.clients if top else 0), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--group", type=int, default=2)
    parser.add_argument("--frames-per-client", type=float, default=6.0)
    parser.add_argument("--frame-bytes", type=int, default=180)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--client-work-us", type=float, default=0.0, help="busy CPU work per frame, per client")
    parser.add_argument("--signals", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--search", action="store_true", help="raise --clients until the limits are passed")
    args = parser.parse_args()
    import uvloop

    if args.serve:
        uvloop.run(serve(args.serve, args.group, args.frames_per_client, args.frame_bytes))
        return
    if args.client:
        figures = uvloop.run(
            clients(
                args.client, args.clients, args.seconds, 500, args.server_pid,
                work_us=args.client_work_us, signals=args.signals,
            )
        )  # fmt: skip
        print(json.dumps(figures))
        return
    traffic = Traffic(args.group, args.frames_per_client, args.frame_bytes)
    load = ClientLoad(args.client_processes, args.client_work_us)
    if args.search:
        best, _ = find_ceiling(traffic, start=args.clients, step=args.clients, seconds=args.seconds, load=load)
        print(f"ceiling: {best} clients")
        return
    print(json.dumps(asdict(measure(args.clients, traffic, args.seconds, load))))


if __name__ == "__main__":
    main()
