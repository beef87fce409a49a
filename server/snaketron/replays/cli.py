"""`snaketron replay <id> [--json]`: a finished game's summary, or its replay's events.

For operators and bug reports: it reads the configured database directly, so it
shows private games too. The summary is text; `--json` prints the replay as the
HTTP API serves it (`GET /api/games/<id>/replay`), one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TextIO

import msgspec

from snaketron.config import Settings
from snaketron.db.errors import DatabaseError
from snaketron.db.tables import require_shared_endpoint
from snaketron.engine import ReplayMismatch
from snaketron.replays.api import GameSummary, resimulate, summary_of
from snaketron.replays.codec import ReplayCorrupt
from snaketron.replays.store import ReplayStore, StoredReplay


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("game_id", type=int, help="the game's id")
    parser.add_argument("--json", action="store_true", help="print the replay's events as JSON")


def replay_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    require_shared_endpoint(settings, "its games are not readable from another process")
    return asyncio.run(show_replay(settings, args.game_id, as_json=args.json))


async def show_replay(settings: Settings, game_id: int, *, as_json: bool, out: TextIO | None = None) -> int:
    """Print game `game_id`'s summary (or, with `as_json`, its replay); 1 when there is none."""
    from snaketron.db.client import DynamoClient
    from snaketron.db.dynamo import DynamoDatabase

    out = out or sys.stdout
    try:
        async with DynamoClient(settings) as client:
            db = DynamoDatabase(client, settings)
            game, replay = await ReplayStore(db, ttl_seconds=settings.replay_ttl_seconds).load_game(game_id)
            await db.close()
    except (DatabaseError, ReplayCorrupt) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if game is None:
        print(f"error: no game {game_id} in tables {settings.table_prefix}-*", file=sys.stderr)
        return 1
    if as_json:
        if replay is None:
            print(f"error: game {game_id} has no replay (not finished, or it expired)", file=sys.stderr)
            return 1
        try:
            body = resimulate(replay)
        except ReplayMismatch as exc:
            print(f"error: the replay of game {game_id} cannot be shown: {exc}", file=sys.stderr)
            return 1
        out.write(msgspec.json.encode(body).decode() + "\n")
        return 0
    out.write(_summary_text(summary_of(game, replay), replay))
    return 0


def _when(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _summary_text(summary: GameSummary, replay: StoredReplay | None) -> str:
    lines = [
        f"game {summary.game_id}: {msgspec.json.encode(summary.game_type).decode()} ({summary.game_mode}), "
        f"{summary.status}{', private' if summary.is_private else ''}",
        f"started  {_when(summary.started_at_ms)}",
        f"duration {'-' if summary.duration_ms is None else f'{summary.duration_ms / 1000:.1f} s'}"
        f" ({summary.final_tick} ticks)",
        "players:",
    ]
    for p in summary.players:
        place = "-" if p.placement is None else str(p.placement)
        winner = "  (winner)" if p.user_id == summary.winner_user_id else ""
        lines.append(f"  {place:>2}. {p.username} (user {p.user_id}, snake {p.snake_id}){winner}")
    if replay is None:
        lines.append("replay: none (not finished, or expired)")
    else:
        lines.append(
            f"replay: {replay.size_bytes} bytes in {replay.chunks} item(s), rules version {replay.rules_version}"
        )
    return "\n".join(lines) + "\n"
