"""Engine speed: ticks per second, and the cost of encoding a tick's events and a snapshot.

    python benchmarks/bench_engine.py [--games N] [--steady-only]

First the steady state the server's CPU per player-second is made of (issue 22):
a duel and a 6-player free-for-all with every snake alive and turning, a tick
and a command timed apart, median of several games. Then bot-driven games are recorded first (the bot is not what is measured), then
replayed: each replay schedules the recorded commands before their tick and
advances one tick at a time, as the server does. The bot brain is timed on its
own: both forms (on the wire state, and on the engine's board as the load
generator runs it) on the same positions of those games. Figures go to
benchmarks/RESULTS.md ("## Engine").
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from dataclasses import dataclass

from snaketron.engine import (
    CommandId,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameEventMessage,
    GameType,
    Turn,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.bot import choose_direction, choose_direction_on_board
from snaketron.protocol import encode_game_event

MAX_TICKS = 600


@dataclass
class Recording:
    game_type: GameType
    players: int
    seed: int
    commands: dict[int, list[tuple[int, GameCommandMessage]]]  # tick -> (user, command)
    ticks: int


def record(game_type: GameType, players: int, seed: int) -> Recording:
    game = _new_game(game_type, players, seed)
    commands: dict[int, list[tuple[int, GameCommandMessage]]] = {}
    while not game.is_complete and game.tick < MAX_TICKS:
        state = game.state
        for user, snake_id in game.players.items():
            if not state.arena.snakes[snake_id].is_alive:
                continue
            direction = choose_direction(state, snake_id)
            if direction is not None:
                message = GameCommandMessage(
                    command_id_client=CommandId(tick=game.tick, user_id=user, sequence_number=0),
                    command=GameCommand(Turn=Turn(direction=direction)),
                )
                commands.setdefault(game.tick, []).append((user, message))
                game.schedule_command(user, message)
        game.advance_to(game.tick)
    return Recording(game_type, players, seed, commands, game.tick)


def _new_game(game_type: GameType, players: int, seed: int) -> Game:
    game = Game(1, game_type, seed=seed)
    for user in range(players):
        game.add_player(user, f"bot{user}")
    game.start(0)
    return game


def replay(recording: Recording) -> tuple[float, list[GameEventMessage]]:
    """Seconds spent scheduling and ticking, and the events produced."""
    game = _new_game(recording.game_type, recording.players, recording.seed)
    events: list[GameEventMessage] = []
    started = time.perf_counter()
    for tick in range(recording.ticks):
        for user, message in recording.commands.get(tick, ()):
            events.append(game.schedule_command(user, message))
        events += game.advance_to(tick)
    return time.perf_counter() - started, events


def bench_ticks(label: str, game_type: GameType, players: int, games: int) -> None:
    recordings = [record(game_type, players, seed) for seed in range(games)]
    total_ticks = sum(r.ticks for r in recordings)
    tick_seconds = 0.0
    encode_seconds = 0.0
    event_count = 0
    for recording in recordings:
        best_tick = min(replay(recording)[0] for _ in range(3))
        tick_seconds += best_tick
        _, events = replay(recording)
        event_count += len(events)
        started = time.perf_counter()
        for event in events:
            encode_game_event(event)
        encode_seconds += time.perf_counter() - started
    per_tick_us = tick_seconds / total_ticks * 1e6
    encode_us = encode_seconds / total_ticks * 1e6
    print(
        f"{label}: {total_ticks} ticks in {games} games, {event_count / total_ticks:.2f} events/tick; "
        f"{total_ticks / tick_seconds:,.0f} ticks/s ({per_tick_us:.1f} us/tick incl. snapshots every 10 ticks); "
        f"encoding a tick's events {encode_us:.1f} us; tick + encoding {per_tick_us + encode_us:.1f} us"
    )


def bench_circling(ticks: int = 300, repeat: int = 5) -> float:
    """Steady state: all 10 snakes stay alive, each turning every 3rd tick (square loops)."""
    best = float("inf")
    events: list[GameEventMessage] = []
    game = None
    for _ in range(repeat):
        game = _new_game(type_free_for_all(10), 10, 2)
        loops = {}
        for user, snake_id in game.players.items():
            snake = game.state.arena.snakes[snake_id]
            ahead = snake.direction
            toward_centre = Direction.DOWN if snake.body[0].y < 20 else Direction.UP
            loops[user] = [toward_centre, ahead.opposite, toward_centre.opposite, ahead]
        events = []
        started = time.perf_counter()
        for tick in range(ticks):
            if tick % 3 == 1:
                for user, loop in loops.items():
                    message = GameCommandMessage(
                        command_id_client=CommandId(tick=tick, user_id=user, sequence_number=0),
                        command=GameCommand(Turn=Turn(direction=loop[(tick // 3) % 4])),
                    )
                    events.append(game.schedule_command(user, message))
            events += game.advance_to(tick)
        best = min(best, time.perf_counter() - started)
    assert game is not None
    alive = sum(snake.is_alive for snake in game.state.arena.snakes)
    started = time.perf_counter()
    for event in events:
        encode_game_event(event)
    encode_us = (time.perf_counter() - started) / ticks * 1e6
    tick_us = best / ticks * 1e6
    print(
        f"10 snakes circling on 40x40 ({alive} alive after {ticks} ticks, {len(events) / ticks:.1f} events/tick incl. "
        f"CommandScheduled): {tick_us:.1f} us/tick incl. commands, encoding {encode_us:.1f} us; "
        f"tick + encoding {tick_us + encode_us:.1f} us"
    )
    return tick_us + encode_us


def bench_steady(
    label: str, game_type: GameType, players: int, *, ticks: int = 200, turn_every: int = 3, repeat: int = 9
) -> tuple[float, float]:
    """Steady state as the server runs it: every snake alive, each turning every
    `turn_every` ticks (square loops), snapshots every 10 ticks. The commands are
    built before the clock starts (decoding them is the receive path's cost); a
    tick (`advance_to` one tick, applying the due turns) and a command
    (`schedule_command`: check, stamp, queue, record, CommandScheduled) are timed
    apart. Median of `repeat` games. Returns (µs per tick, µs per command)."""
    tick_samples: list[float] = []
    command_samples: list[float] = []
    alive = 0
    for _ in range(repeat):
        game = _new_game(game_type, players, 2)
        turns: dict[int, list[tuple[int, GameCommandMessage]]] = {}
        for tick in range(1, ticks, turn_every):
            batch = []
            for user, snake_id in game.players.items():
                snake = game.state.arena.snakes[snake_id]
                ahead = snake.direction
                toward_centre = Direction.DOWN if snake.body[0].y < game.state.arena.height // 2 else Direction.UP
                loop = [toward_centre, ahead.opposite, toward_centre.opposite, ahead]
                message = GameCommandMessage(
                    command_id_client=CommandId(tick=tick, user_id=user, sequence_number=tick),
                    command=GameCommand(Turn=Turn(direction=loop[(tick // turn_every) % 4])),
                )
                batch.append((user, message))
            turns[tick] = batch
        tick_s = command_s = 0.0
        commands = 0
        clock = time.perf_counter
        for tick in range(ticks):
            batch = turns.get(tick)
            if batch:
                started = clock()
                for user, message in batch:
                    game.schedule_command(user, message)
                command_s += clock() - started
                commands += len(batch)
            started = clock()
            game.advance_to(tick)
            tick_s += clock() - started
        alive = sum(snake.is_alive for snake in game.state.arena.snakes)
        tick_samples.append(tick_s / ticks * 1e6)
        command_samples.append(command_s / commands * 1e6)
    tick_us = statistics.median(tick_samples)
    command_us = statistics.median(command_samples)
    print(
        f"steady {label}: {alive}/{players} alive after {ticks} ticks; tick {tick_us:.2f} us "
        f"(min {min(tick_samples):.2f}), command {command_us:.2f} us (min {min(command_samples):.2f}); "
        f"median of {repeat}"
    )
    return tick_us, command_us


def bench_snapshot(players: int, repeat: int = 2000) -> None:
    game = _new_game(type_free_for_all(players), players, 1)
    game.advance_to(5)
    samples_build, samples_encode = [], []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            event = game.snapshot_event()
        built = time.perf_counter()
        for _ in range(repeat):
            frame = encode_game_event(event)
        done = time.perf_counter()
        samples_build.append((built - started) / repeat * 1e6)
        samples_encode.append((done - built) / repeat * 1e6)
    print(
        f"snapshot of a {players}-snake 40x40 game: build {min(samples_build):.1f} us, "
        f"encode {min(samples_encode):.1f} us, {len(frame)} bytes"
    )


def bench_brains(label: str, game_type: GameType, players: int, games: int, repeat: int = 3) -> None:
    """µs per decision of each brain, on every position (each live snake) of the recorded games.

    The wire brain needs `game.state`, which a caller holding a `Game` builds first
    (the pilot did, once per wake-up for all its bots): timed apart, per decision."""
    calls: list[tuple[Game, int]] = []
    for seed in range(games):
        recording = record(game_type, players, seed)
        game = _new_game(game_type, players, seed)
        for tick in range(recording.ticks):
            state = game.state
            position = Game.from_state(1, state)  # a copy that stays at this tick
            calls += [(position, snake_id) for snake_id, snake in enumerate(state.arena.snakes) if snake.is_alive]
            for user, message in recording.commands.get(tick, ()):
                game.schedule_command(user, message)
            game.advance_to(tick)
    state_us = wire_total_us = board_us = float("inf")
    for _ in range(repeat):
        # Nothing built is kept: a list of thousands of states would time the garbage collector.
        started = time.perf_counter()
        for game, _ in calls:
            game.state  # noqa: B018 (built and dropped: its cost is what is timed)
        built = time.perf_counter()
        wire = [choose_direction(game.state, snake_id) for game, snake_id in calls]
        done = time.perf_counter()
        on_board = [choose_direction_on_board(game, snake_id) for game, snake_id in calls]
        board_us = min(board_us, (time.perf_counter() - done) / len(calls) * 1e6)
        state_us = min(state_us, (built - started) / len(calls) * 1e6)
        wire_total_us = min(wire_total_us, (done - built) / len(calls) * 1e6)
        assert on_board == wire, "the two brains disagree"
    wire_us = wire_total_us - state_us
    print(
        f"bot brain, {label} ({len(calls):,} decisions): choose_direction {wire_us:.1f} us "
        f"+ {state_us:.1f} us to build game.state; choose_direction_on_board {board_us:.1f} us "
        f"({wire_us / board_us:.1f}x, {(wire_us + state_us) / board_us:.1f}x with the state)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=8, help="recorded games per scenario")
    parser.add_argument("--steady-only", action="store_true", help="only the steady-state tick and command figures")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    bench_steady("duel, 60x40 team match", type_team_match(1), 2)
    bench_steady("6-player free-for-all, 40x40", type_free_for_all(6), 6)
    if args.steady_only:
        return
    bench_ticks("10 snakes, 40x40 free-for-all", type_free_for_all(10), 10, args.games)
    bench_ticks("duel, 60x40 team match", type_team_match(1), 2, args.games)
    steady_us = bench_circling()
    bench_snapshot(10)
    bench_snapshot(2)
    bench_brains("duel, 60x40 team match", type_team_match(1), 2, args.games)
    bench_brains("10 snakes, 40x40 free-for-all", type_free_for_all(10), 10, args.games)
    games_at_10hz = 1e6 / steady_us / 10
    print(f"=> one core could tick and encode ~{games_at_10hz:,.0f} ten-snake games (all alive, turning) at 10 Hz")


if __name__ == "__main__":
    main()
