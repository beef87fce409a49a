"""What metrics add to the hot path, per call, next to what they record about.

A game tick with metrics on records its lateness and duration
(`TickTimings.record`, plus a `perf_counter` pair); a DynamoDB request its
latency; the WebSocket server counts commands with an integer addition. This
prints the cost of each in nanoseconds, and the cost of a whole game tick of a
running duel for scale (the engine advancing one tick and encoding its events,
no sockets), so the share metrics take is plain.

    python benchmarks/bench_metrics.py
"""

from __future__ import annotations

import os
import sys
import time
import timeit

from snaketron.db.client import DbMetrics
from snaketron.engine import Game
from snaketron.histograms import TickTimings
from snaketron.protocol import encode_game_event
from snaketron.sessions import MessageStats

ROUNDS = 5


def best_ns(statement, number: int) -> float:
    """The fastest of ROUNDS runs, per call, in nanoseconds (the least disturbed by other load)."""
    return min(timeit.repeat(statement, number=number, repeat=ROUNDS)) / number * 1e9


def duel_tick_ns() -> float:
    """Advance a fresh two-player game tick by tick (its first ticks, before any snake
    can reach a wall) and encode what each says; the fastest of many games, per tick."""
    from snaketron.engine.types import type_team_match

    ticks = 15
    fastest = float("inf")
    for seed in range(1, 201):
        game = Game(1, type_team_match(1), seed=seed)
        for user in (1, 2):
            game.add_player(user, f"p{user}")
        game.start(0)
        began = time.perf_counter_ns()
        for tick in range(1, ticks + 1):
            for event in game.advance_to(tick):
                encode_game_event(event)
        fastest = min(fastest, (time.perf_counter_ns() - began) / ticks)
    return fastest


def main() -> None:
    print(f"metrics hot path: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    timings = TickTimings()
    db = DbMetrics()
    stats = MessageStats()
    rows = [
        (
            "tick timing: perf_counter pair + TickTimings.record",
            best_ns(_timed_tick(timings), 200_000),
        ),
        (
            "DynamoDB latency: DbMetrics.observe_latency",
            best_ns(lambda: db.observe_latency("put_item", 0.004), 200_000),
        ),
        ("command count: MessageStats.commands += 1", best_ns(_increment(stats), 200_000)),
    ]
    for name, ns in rows:
        print(f"  {name:<55} {ns:8.0f} ns")
    try:
        tick = duel_tick_ns()
    except Exception as exc:  # the engine's constructor moved: the figures above still stand
        print(f"  (a duel tick could not be timed: {exc!r})")
        return
    print(f"  {'one duel tick: advance + encode (for scale)':<55} {tick:8.0f} ns")
    print(f"  tick timing is {rows[0][1] / tick:.1%} of a duel tick's engine work")


def _timed_tick(timings: TickTimings):
    """What GameHost._on_tick_due adds around a tick when metrics are on."""
    clock = time.perf_counter_ns

    def tick() -> None:
        started = clock()
        timings.record(3, clock() - started)

    return tick


def _increment(stats: MessageStats):
    def bump() -> None:
        stats.commands += 1

    return bump


if __name__ == "__main__":
    main()
