"""What a game type means on the board: size, team zones and walls, seats, start positions."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from snaketron.engine.types import (
    SOLO,
    CustomGameSettings,
    Direction,
    GameType,
    GameTypeObject,
)

DEFAULT_WIDTH = 40
DEFAULT_HEIGHT = 40
TEAM_MATCH_WIDTH = 60  # a 40-wide main field plus an end zone on each side
TEAM_MATCH_HEIGHT = 40
DEFAULT_START_LENGTH = 4
DEFAULT_TICK_MS = 100
FOOD_TARGET = 10
END_ZONE_DEPTH = 10
# Team games start their columns this far inside the main field.
TEAM_START_INSET = 2


class EndRule(enum.Enum):
    """Which end condition and winner rule of docs/RULES.md applies."""

    SOLO = "solo"  # ends when the snake dies, no winner
    LAST_ALIVE = "last_alive"  # ends when at most one snake is alive
    TEAM_GOAL = "team_goal"  # ends on a goal or when a team is wiped out


@dataclass(frozen=True, slots=True)
class TeamZones:
    depth: int
    goal_width: int
    goal_top: int  # first open row of each wall column
    goal_bottom: int  # last open row
    left_wall_x: int
    right_wall_x: int

    def is_wall(self, x: int, y: int) -> bool:
        return (x == self.left_wall_x or x == self.right_wall_x) and not self.goal_top <= y <= self.goal_bottom

    def scores(self, team_id: int, x: int) -> bool:
        """Whether a head of `team_id` at column x has reached the other team's goal."""
        if team_id == 0:
            return x >= self.right_wall_x
        return x < self.depth


def goal_width_for(height: int) -> int:
    """round(height * 0.2), at least 3, made odd (40 rows: 9)."""
    width = max(3, int(height * 0.2 + 0.5))
    return width + 1 if width % 2 == 0 else width


def team_zones_for(width: int, height: int, depth: int = END_ZONE_DEPTH) -> TeamZones:
    return zones_from_config(width, height, depth, goal_width_for(height))


@dataclass(frozen=True, slots=True)
class GameSetup:
    """The board and the rules a game type implies."""

    width: int
    height: int
    start_length: int
    tick_ms: int
    max_players: int
    min_players: int  # to start
    end_rule: EndRule
    zones: TeamZones | None
    per_team: int  # 0 unless a team match
    food_target: int = FOOD_TARGET

    @property
    def food_x_min(self) -> int:
        # Team games spawn food only in the main field.
        return self.zones.depth if self.zones else 0

    @property
    def food_x_range(self) -> int:
        return self.width - 2 * self.zones.depth if self.zones else self.width

    def team_of(self, seat: int) -> int | None:
        """Teams are assigned alternately in join order."""
        return seat % 2 if self.end_rule is EndRule.TEAM_GOAL else None


def setup_for(game_type: GameType, tick_ms: int | None = None) -> GameSetup:
    if game_type == SOLO:
        return _plain(EndRule.SOLO, 1, tick_ms or DEFAULT_TICK_MS)
    assert isinstance(game_type, GameTypeObject)
    if game_type.FreeForAll is not None:
        return _plain(EndRule.LAST_ALIVE, game_type.FreeForAll.max_players, tick_ms or DEFAULT_TICK_MS)
    if game_type.TeamMatch is not None:
        per_team = game_type.TeamMatch.per_team
        return GameSetup(
            width=TEAM_MATCH_WIDTH,
            height=TEAM_MATCH_HEIGHT,
            start_length=DEFAULT_START_LENGTH,
            tick_ms=tick_ms or DEFAULT_TICK_MS,
            max_players=2 * per_team,
            min_players=2,
            end_rule=EndRule.TEAM_GOAL,
            zones=team_zones_for(TEAM_MATCH_WIDTH, TEAM_MATCH_HEIGHT),
            per_team=per_team,
        )
    assert game_type.Custom is not None
    return _custom(game_type.Custom.settings, tick_ms)


def _plain(end_rule: EndRule, max_players: int, tick_ms: int) -> GameSetup:
    return GameSetup(
        width=DEFAULT_WIDTH,
        height=DEFAULT_HEIGHT,
        start_length=DEFAULT_START_LENGTH,
        tick_ms=tick_ms,
        max_players=max_players,
        min_players=1 if end_rule is EndRule.SOLO else 2,
        end_rule=end_rule,
        zones=None,
        per_team=0,
    )


def _custom(settings: CustomGameSettings, tick_ms: int | None) -> GameSetup:
    # A custom duel is a two-player last-alive game on the custom board: docs/RULES.md
    # places two custom players like a free-for-all pair. The seats: `settings.seats()`.
    end_rule = EndRule.SOLO if settings.game_mode == SOLO else EndRule.LAST_ALIVE
    return GameSetup(
        width=settings.arena_width,
        height=settings.arena_height,
        start_length=settings.snake_start_length,
        tick_ms=tick_ms or settings.tick_duration_ms,
        max_players=settings.seats(),
        min_players=1 if end_rule is EndRule.SOLO else 2,
        end_rule=end_rule,
        zones=None,
        per_team=0,
    )


def start_positions(setup: GameSetup, count: int) -> list[tuple[int, int, Direction]]:
    """(head x, head y, facing) of each seat; the tail lies start_length-1 cells behind."""
    w, h, length = setup.width, setup.height, setup.start_length
    mid = h // 2
    if setup.zones is None:
        left, right = 0, w - 1
    else:
        left, right = setup.zones.depth + TEAM_START_INSET, w - setup.zones.depth - 1 - TEAM_START_INSET
    if setup.per_team == 1:
        duel = [(5, mid, Direction.RIGHT), (w - 5, mid, Direction.LEFT)]
        return duel[:count]
    if setup.zones is None and count == 1:
        return [(right - length, mid, Direction.LEFT)]
    if setup.zones is None and count == 2:
        return [(right - length, mid, Direction.LEFT), (left + length, mid, Direction.RIGHT)]
    # Two facing columns, ceil(count/2) snakes on the left. In team games even seats
    # (team 0) take the left one, so teammates share a column but each has a row of
    # their own; otherwise the left column fills first, seat by seat, as the original
    # server placed them.
    column_sizes = ((count + 1) // 2, count // 2)
    positions = []
    for seat in range(count):
        if setup.per_team:
            side, row = seat % 2, seat // 2
        else:
            side = 0 if seat < column_sizes[0] else 1
            row = seat if side == 0 else seat - column_sizes[0]
        size = column_sizes[side]
        y = mid if size == 1 else 2 + row * (h - 4) // (size - 1)
        if side == 0:
            positions.append((left + length, y, Direction.RIGHT))
        else:
            positions.append((right - length, y, Direction.LEFT))
    return positions


def zones_from_config(width: int, height: int, depth: int, goal_width: int) -> TeamZones:
    """The zones a wire state's `team_zone_config` describes."""
    return TeamZones(
        depth=depth,
        goal_width=goal_width,
        goal_top=height // 2 - goal_width // 2,
        goal_bottom=height // 2 + goal_width // 2,
        left_wall_x=depth - 1,
        right_wall_x=width - depth,
    )
