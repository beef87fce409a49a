"""Legacy finished games as `GameResult` values, to seed the current season's boards,
wins, losses and histories (docs/LEGACY_POSTGRES.md says what the legacy rows hold).

The legacy schema keeps no places, scores or rating changes: they are read from the
game's saved state where it has them. The winner is the snake named by its
`Complete` status; every other player shares place 2 (the legacy server kept no
order among the losers); a game that ended with no winner is a draw. A player's
score is the final length of their snake in the saved arena. The rating on the
board is the account's legacy mmr (the legacy rows keep no history of it), and
history rows carry no mmr change. Games whose state lacks a `Complete` status are
not seeded: who won cannot be told. Pure: no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import msgspec

from snaketron.engine.types import GameType
from snaketron.leaderboard.plan import game_label_of
from snaketron.migrate.legacy import LegacyFinishedGame
from snaketron.rooms.result import GameResult, PlayerResult

KINDS = {"matchmaking": "matchmaking", "custom": "custom", "solo": "solo"}


def _snake_length(snake: Any) -> int:
    """Length of a compressed body: head, turn points, tail."""
    body = snake.get("body") if isinstance(snake, dict) else None
    if not isinstance(body, list) or not body:
        return 0
    try:
        points = [(int(p["x"]), int(p["y"])) for p in body]
    except (KeyError, TypeError, ValueError):
        return 0
    return 1 + sum(abs(x2 - x1) + abs(y2 - y1) for (x1, y1), (x2, y2) in itertools.pairwise(points))


def _winning_snake(status: Any) -> tuple[bool, int | None]:
    """(whether the game completed, the winning snake id or None for a draw)."""
    complete = status.get("Complete") if isinstance(status, dict) else None
    if not isinstance(complete, dict):
        return False, None
    winner = complete.get("winning_snake_id")
    return True, winner if isinstance(winner, int) and not isinstance(winner, bool) else None


def legacy_result(row: LegacyFinishedGame, username_of: Callable[[int, str], str]) -> GameResult | None:
    """The result a finished legacy game stands for, or None when it cannot be told."""
    completed, winning_snake = _winning_snake(row.status)
    kind = KINDS.get(row.game_mode)
    if not completed or kind is None or not row.players:
        return None
    try:
        game_type: GameType = msgspec.convert(row.game_type, GameType)
    except (msgspec.ValidationError, ValueError):
        return None
    seats = row.seats if isinstance(row.seats, dict) else {}
    snakes = row.snakes if isinstance(row.snakes, list) else []
    # Matchmade duels and free-for-alls were the rated games; team games are on no board.
    label = game_label_of(game_type)
    rated = kind == "matchmaking" and label in ("duel", "ffa")
    players: list[PlayerResult] = []
    winner_user: int | None = None
    for user_id, legacy_name, team_id, mmr in row.players:
        seat = seats.get(str(user_id))
        snake_id = seat.get("snake_id") if isinstance(seat, dict) else None
        snake_id = snake_id if isinstance(snake_id, int) else -1
        score = _snake_length(snakes[snake_id]) if 0 <= snake_id < len(snakes) else 0
        place = 2 if winning_snake is not None and snake_id != winning_snake else 1  # no winner: a draw
        if place == 1 and winning_snake is not None:
            winner_user = user_id
        players.append(
            PlayerResult(
                user_id=user_id,
                username=username_of(user_id, legacy_name),
                snake_id=max(snake_id, 0),
                team_id=team_id,
                place=place,
                score=score,
                left=False,
                mmr_before=None,
                mmr_after=mmr if rated else None,
            )
        )
    start = row.start_ms if isinstance(row.start_ms, int) and not isinstance(row.start_ms, bool) else row.ended_at_ms
    return GameResult(
        game_id=row.game_id,
        kind=kind,  # type: ignore[arg-type]
        game_type=game_type,
        rated=rated,
        is_private=row.is_private,
        region=row.region or "",
        server_id=row.server_id or 0,
        start_ms=min(start, row.ended_at_ms),
        end_ms=row.ended_at_ms,
        end_tick=0,
        winner_user_id=winner_user,
        abandoned=False,
        players=tuple(players),
        spectator_ids=(),
    )
