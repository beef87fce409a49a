"""Replays: stored size per minute of play, re-simulation speed, requests added per game.

Bot-played games (every snake steers with the engine's bot brain, turning when it
wants to, its commands stamped for the tick it saw or one late, like a real client's) are
recorded as the server records them, then:

- size: the stored (compressed) replay per minute of play, duel and 6-player FFA;
- speed: `replay_events` ticks per second (what GET /api/games/<id>/replay costs);
- requests: each game's finish writes (game item + player rows, as the server
  queues them) are queued on the batch writer against the embedded endpoint, with
  and without the replay's item, alone (one game finishing at a time) and with
  K games finishing together; BatchWriteItem calls are counted.

    python benchmarks/bench_replay.py --games 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time
import uuid

import msgspec

from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.models import GamePlayerRecord, GameRecord
from snaketron.engine import (
    CommandId,
    Game,
    GameCommand,
    GameCommandMessage,
    GameType,
    Recording,
    Turn,
    replay_events,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.bot import choose_direction_on_board
from snaketron.logs import configure_logging
from snaketron.replays.codec import encode_recording
from snaketron.replays.store import ReplayStore, ReplaySummary

MAX_TICKS = 6_000  # ten minutes at 10 Hz


def bot_game(game_id: int, game_type: GameType, seats: int, seed: int) -> Game:
    rng = random.Random(seed)
    game = Game(game_id, game_type, seed=seed)
    for seat in range(seats):
        game.add_player(1000 + seat, f"bot{seat}")
    game.start(1_800_000_000_000)
    sent = 0
    while not game.is_complete and game.tick < MAX_TICKS:
        for user_id, snake_id in game.players.items():
            direction = choose_direction_on_board(game, snake_id)
            if direction is not None:
                sent += 1
                game.schedule_command(
                    user_id,
                    GameCommandMessage(
                        command_id_client=CommandId(
                            tick=max(0, game.tick + rng.randint(-1, 0)), user_id=user_id, sequence_number=sent
                        ),
                        command=GameCommand(Turn=Turn(direction=direction)),
                    ),
                )
        game.advance_to(game.tick)
    if not game.is_complete:
        game.abandon()
    return game


def recordings(kind: str, games: int) -> list[Recording]:
    game_type, seats = (type_team_match(1), 2) if kind == "duel" else (type_free_for_all(6), 6)
    found = []
    for i in range(games):
        recording = bot_game(i + 1, game_type, seats, seed=7919 * (i + 1)).recording()
        assert recording is not None
        found.append(recording)
    return found


def size_and_speed(kind: str, games: int) -> tuple[list[Recording], str]:
    recs = recordings(kind, games)
    ticks = sum(r.final_tick for r in recs)
    minutes = ticks * 100 / 60_000
    stored = sum(len(encode_recording(r)) for r in recs)
    commands = sum(len(r.inputs) for r in recs)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for r in recs:
            replay_events(r)
        best = min(best, time.perf_counter() - started)
    row = (
        f"| {kind} ({games} games, {ticks:,} ticks, {commands:,} inputs) | {stored / minutes:,.0f} B/min "
        f"| {stored / games:,.0f} B | {ticks / best:,.0f} ticks/s |"
    )
    return recs, row


async def requests_added(recs: list[Recording], endpoint: str, together: int) -> tuple[float, float]:
    """BatchWriteItem calls per finished game without and with replays, `together` games finishing at once."""
    figures = []
    for with_replay in (False, True):
        settings = Settings.from_env(
            dynamodb_endpoint=endpoint, table_prefix=f"rp{uuid.uuid4().hex[:6]}", log_level="warning"
        )
        async with open_database(settings) as db:
            store = ReplayStore(db, ttl_seconds=settings.replay_ttl_seconds)
            before = db.writer.metrics.requests
            for first in range(0, len(recs), together):
                for r in recs[first : first + together]:
                    record = GameRecord(game_id=r.game_id, server_id=1, game_type="Solo", game_mode="matchmaking")
                    rows = [GamePlayerRecord(game_id=r.game_id, user_id=u, username=n) for u, n in r.seats]
                    db.save_game_nowait(record, rows)
                    if with_replay:
                        store.save(r, ReplaySummary(is_private=False, ended_at_ms=0))
                await db.flush()
            figures.append((db.writer.metrics.requests - before) / len(recs))
    return figures[0], figures[1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=8)
    args = parser.parse_args()
    configure_logging("warning", False)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| game | stored size per minute | per game | re-simulation |")
    print("|---|---|---|---|")
    duels, row = size_and_speed("duel", args.games)
    print(row)
    _, row = size_and_speed("ffa6", args.games)
    print(row)
    print()
    print("| finishing | BatchWriteItem per duel, without replays | with replays | added |")
    print("|---|---|---|---|")
    # Three copies of each duel under their own ids: more games finishing than one batch holds.
    finished = [msgspec.structs.replace(r, game_id=i + 1) for i, r in enumerate(duels * 3)]
    with EmbeddedEndpoint() as endpoint:
        for together in (1, 6, len(finished)):
            without, with_replay = await requests_added(finished, endpoint.url, together)
            print(f"| {together} at once | {without:.3f} | {with_replay:.3f} | {with_replay - without:+.3f} |")


if __name__ == "__main__":
    asyncio.run(main())
