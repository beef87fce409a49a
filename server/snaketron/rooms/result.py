"""What a finished game tells its listeners: immutable values, never a shared object.

A room builds one `GameResult` when its game ends (by the rules or abandoned). The
ratings, the game's record, leaderboards and replays all read this value; none of
them writes a field for another to read later, so no listener depends on the order
in which the others ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from snaketron.engine.recording import Recording
from snaketron.engine.types import GameType

RoomKind = Literal["solo", "custom", "matchmaking"]


@dataclass(frozen=True, slots=True)
class PlayerResult:
    """One seat of a finished game."""

    user_id: int
    username: str
    snake_id: int
    team_id: int | None
    place: int  # 1 is best; equal places are draws
    score: int  # the snake's final length
    left: bool  # left the running game before it ended
    mmr_before: int | None  # rated games only
    mmr_after: int | None  # rated games only; None when the rating write failed

    @property
    def mmr_change(self) -> int | None:
        if self.mmr_before is None or self.mmr_after is None:
            return None
        return self.mmr_after - self.mmr_before


@dataclass(frozen=True, slots=True)
class GameResult:
    """A finished game: who played, where each placed, and what it changed."""

    game_id: int
    kind: RoomKind
    game_type: GameType
    rated: bool
    is_private: bool
    region: str
    server_id: int
    start_ms: int
    end_ms: int
    end_tick: int
    winner_user_id: int | None
    abandoned: bool  # ended by the server going away, not by the rules
    players: tuple[PlayerResult, ...]
    spectator_ids: tuple[int, ...]
    # What a replay needs (`Game.recording()` taken when the game ended); None for a game
    # resumed from a state. The result's write saves it with the game's rows
    # (`persistence.GameRecorder`).
    recording: Recording | None = None

    @property
    def duration_ms(self) -> int:
        return max(0, self.end_ms - self.start_ms)

    def player(self, user_id: int) -> PlayerResult | None:
        return next((p for p in self.players if p.user_id == user_id), None)
