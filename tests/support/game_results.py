"""`GameResult` values for tests of what listens to finished games (leaderboards)."""

from __future__ import annotations

import itertools
import time

from snaketron.engine.types import SOLO_GAME_TYPE, type_free_for_all, type_team_match
from snaketron.rooms.result import GameResult, PlayerResult

_game_ids = itertools.count(1)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def player(
    user_id: int,
    place: int,
    *,
    mmr_before: int | None = 1000,
    mmr_after: int | None = 1000,
    score: int = 4,
    username: str | None = None,
) -> PlayerResult:
    return PlayerResult(
        user_id=user_id,
        username=username or f"player{user_id}",
        snake_id=user_id,
        team_id=None,
        place=place,
        score=score,
        left=False,
        mmr_before=mmr_before,
        mmr_after=mmr_after,
    )


def result(
    kind: str,
    players: list[PlayerResult],
    *,
    end_ms: int | None = None,
    region: str = "local",
    abandoned: bool = False,
    game_id: int | None = None,
) -> GameResult:
    end = now_ms() if end_ms is None else end_ms
    game_type = {"duel": type_team_match(1), "ffa": type_free_for_all(len(players)), "solo": SOLO_GAME_TYPE}[kind]
    rated = kind in ("duel", "ffa")
    winner = next((p.user_id for p in players if p.place == 1), None)
    return GameResult(
        game_id=next(_game_ids) if game_id is None else game_id,
        kind="solo" if kind == "solo" else "matchmaking",
        game_type=game_type,  # type: ignore[arg-type]
        rated=rated,
        is_private=False,
        region=region,
        server_id=1,
        start_ms=end - 60_000,
        end_ms=end,
        end_tick=600,
        winner_user_id=winner,
        abandoned=abandoned,
        players=tuple(players),
        spectator_ids=(),
    )


def duel(winner: PlayerResult, loser: PlayerResult, **kwargs: object) -> GameResult:
    return result("duel", [winner, loser], **kwargs)  # type: ignore[arg-type]


def solo(user_id: int, score: int, **kwargs: object) -> GameResult:
    return result("solo", [player(user_id, 1, mmr_before=None, mmr_after=None, score=score)], **kwargs)  # type: ignore[arg-type]
