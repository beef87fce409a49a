"""Build games in exact positions for rule tests, through the public `Game.from_state`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from snaketron.engine import (
    DUEL,
    SOLO,
    Arena,
    CommandId,
    CommandQueueState,
    CustomGameSettings,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameEventMessage,
    GameProperties,
    GameState,
    GameType,
    PlayerEntry,
    Position,
    RngState,
    Snake,
    Turn,
    mode_free_for_all,
    status_started,
    type_custom,
)
from snaketron.engine.body import compress

Cell = tuple[int, int]


@dataclass
class S:
    """A snake to place: its cells head first; facing defaults to its last step."""

    cells: Sequence[Cell]
    direction: Direction | None = None
    alive: bool = True
    food: int = 0
    team: int | None = None

    def facing(self) -> Direction:
        if self.direction is not None:
            return self.direction
        (hx, hy), (nx, ny) = self.cells[0], self.cells[1]
        return next(d for d in Direction if d.delta == (hx - nx, hy - ny))


def custom_type(width: int, height: int, mode: str = "ffa", max_players: int = 16) -> GameType:
    game_mode = {"ffa": mode_free_for_all(max_players), "solo": SOLO, "duel": DUEL}[mode]
    return type_custom(
        CustomGameSettings(
            arena_width=width,
            arena_height=height,
            max_players=max_players if mode == "ffa" else {"solo": 1, "duel": 2}[mode],
            game_mode=game_mode,
        )
    )


def board(
    snakes: Sequence[S],
    *,
    width: int = 20,
    height: int = 20,
    food: Sequence[Cell] = (),
    game_type: GameType | None = None,
    rng: int = 0x9E3779B97F4A7C15,
    tick: int = 0,
) -> Game:
    """A started game at `tick` with exactly these snakes (user ids 101, 102, ...) and food."""
    if game_type is None:
        game_type = custom_type(width, height)
    state = GameState(
        tick=tick,
        status=status_started(7),
        game_type=game_type,
        start_ms=1_000_000,
        event_sequence=0,
        arena=Arena(
            width=width,
            height=height,
            snakes=[
                Snake(
                    body=compress(list(s.cells)),
                    direction=s.facing(),
                    is_alive=s.alive,
                    food=s.food,
                    team_id=s.team,
                )
                for s in snakes
            ],
            food=[Position(x, y) for x, y in food],
            team_zone_config=None,
        ),
        properties=GameProperties(available_food_target=10, tick_duration_ms=100),
        command_queue=CommandQueueState(queue=[], active_ids=[], tombstone_ids=[]),
        players={101 + i: PlayerEntry(user_id=101 + i, snake_id=i) for i in range(len(snakes))},
        rng=RngState(state=rng),
        game_code=None,
        host_user_id=None,
        usernames={101 + i: f"player{i}" for i in range(len(snakes))},
    )
    return Game.from_state(1, state)


def turn(game: Game, user_id: int, direction: Direction, tick: int | None = None) -> GameEventMessage:
    """Schedule a Turn from `user_id` stamped by its client for `tick` (default: the next tick)."""
    client_tick = game.tick if tick is None else tick
    return game.schedule_command(
        user_id,
        GameCommandMessage(
            command_id_client=CommandId(tick=client_tick, user_id=user_id, sequence_number=0),
            command=GameCommand(Turn=Turn(direction=direction)),
        ),
    )


def kinds(events: Sequence[GameEventMessage]) -> list[str]:
    return [e.event.tag for e in events]


def of_kind(events: Sequence[GameEventMessage], tag: str) -> list:
    return [e.event.value for e in events if e.event.tag == tag]


def cells_of(game: Game, snake_id: int) -> list[Cell]:
    from snaketron.engine.body import expand

    return expand(game.state.arena.snakes[snake_id].body)
