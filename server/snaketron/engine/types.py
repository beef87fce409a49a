"""The game's wire types: msgspec Structs that encode to exactly PROTOCOL.md's JSON.

Rust's serde encodes enums "externally tagged": a unit variant is a bare string
(`"Stopped"`), a variant with fields a one-key object (`{"Started": {...}}`).
msgspec has no such tagging, so an enum with field-carrying variants is modelled
as a `OneOf` Struct: one optional field per variant, named exactly like the tag,
defaults omitted on encode. Encoding and decoding then run entirely inside
msgspec's C code, and `__post_init__` makes the decoder refuse `{}` or two tags.
Unit variants are `Literal` strings in a union with that Struct (e.g.
`GameStatus = Literal["Stopped"] | GameStatusObject`).

Field names and nesting are part of the protocol: do not rename them.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct
from msgspec.structs import astuple

# Integer widths of the Rust types, so that the decoder refuses what serde would.
U8 = Annotated[int, Meta(ge=0, le=0xFF)]
U16 = Annotated[int, Meta(ge=0, le=0xFFFF)]
U32 = Annotated[int, Meta(ge=0, le=0xFFFF_FFFF)]
# msgspec itself refuses integers beyond 64 bits, so only the sign needs a bound.
U64 = Annotated[int, Meta(ge=0)]
I16 = Annotated[int, Meta(ge=-0x8000, le=0x7FFF)]
I64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]


class OneOf(Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """An externally tagged enum's field-carrying variants: exactly one field is set.
    Frozen, as every variant is (a type checker refuses a frozen subclass of a mutable one)."""

    def __post_init__(self) -> None:
        # Every field but one is None. `astuple` and `count` run in C: this runs for
        # every event the engine builds and every command the server decodes.
        if astuple(self).count(None) != len(self.__struct_fields__) - 1:
            raise ValueError(f"expected exactly one of {', '.join(self.__struct_fields__)}")

    @property
    def tag(self) -> str:
        """The variant's name, as on the wire."""
        for name in self.__struct_fields__:
            if getattr(self, name) is not None:
                return name
        raise AssertionError("unreachable: __post_init__ guarantees one variant")

    @property
    def value(self) -> Any:
        """The variant's payload (a Struct), handy for `match`."""
        return getattr(self, self.tag)


class Direction(enum.Enum):
    UP = "Up"
    DOWN = "Down"
    LEFT = "Left"
    RIGHT = "Right"

    # Enum hashes a member by its name, in Python; members are singletons compared by
    # identity, so the identity hash (in C) is equivalent and twice as fast as a dict
    # key, which the engine's per-turn caches and `delta`/`opposite` are. (Hashes of
    # str differ between processes anyway: nothing may depend on the value.)
    __hash__ = object.__hash__

    @property
    def delta(self) -> tuple[int, int]:
        return _DELTAS[self]

    @property
    def opposite(self) -> Direction:
        return _OPPOSITES[self]


# y grows downward: Up is y-1.
_DELTAS = {Direction.UP: (0, -1), Direction.DOWN: (0, 1), Direction.LEFT: (-1, 0), Direction.RIGHT: (1, 0)}
_OPPOSITES = {
    Direction.UP: Direction.DOWN,
    Direction.DOWN: Direction.UP,
    Direction.LEFT: Direction.RIGHT,
    Direction.RIGHT: Direction.LEFT,
}


class Position(Struct, frozen=True):
    x: I16
    y: I16


# --- status, modes, types ---------------------------------------------------------


class Started(Struct, frozen=True):
    server_id: U64


class Complete(Struct, frozen=True):
    winning_snake_id: U32 | None


class GameStatusObject(OneOf, frozen=True):
    Started: Started | None = None
    Complete: Complete | None = None


STOPPED: Literal["Stopped"] = "Stopped"
GameStatus = Literal["Stopped"] | GameStatusObject


def status_started(server_id: int) -> GameStatus:
    return GameStatusObject(Started=Started(server_id=server_id))


def status_complete(winning_snake_id: int | None) -> GameStatus:
    return GameStatusObject(Complete=Complete(winning_snake_id=winning_snake_id))


class FreeForAll(Struct, frozen=True):
    max_players: U8


class TeamMatch(Struct, frozen=True):
    per_team: U8


class GameModeObject(OneOf, frozen=True):
    FreeForAll: FreeForAll | None = None


SOLO: Literal["Solo"] = "Solo"
DUEL: Literal["Duel"] = "Duel"
GameMode = Literal["Solo", "Duel"] | GameModeObject


def mode_free_for_all(max_players: int) -> GameMode:
    return GameModeObject(FreeForAll=FreeForAll(max_players=max_players))


# Sensible bounds of custom settings (PROTOCOL.md). Values inside the wire types'
# integer widths but outside these are refused with AccessDenied, not Error, so
# they are checked by `CustomGameSettings.validate()` rather than by the decoder.
ARENA_SIDE_RANGE = (10, 200)
TICK_MS_RANGE = (30, 1000)
MAX_PLAYERS_RANGE = (1, 16)
START_LENGTH_RANGE = (1, 20)
# Food per minute in the original server, which offered 1.5 to 8 (this server's rules
# ignore it, docs/RULES.md). 0 or 0.01-100: besides keeping it sane, DynamoDB stores no
# number past 9.9e125 or nearer to 0 than 1e-130, and a lobby's settings are stored with
# each write of its lobby and game items.
FOOD_SPAWN_RATE_RANGE = (0.01, 100.0)


class CustomGameSettings(Struct, frozen=True):
    """Settings of a custom game. Every field has its default, so a partial object decodes."""

    arena_width: U16 = 40
    arena_height: U16 = 40
    tick_duration_ms: U32 = 100
    food_spawn_rate: float = 3.0
    max_players: U8 = 4
    game_mode: GameMode = msgspec.field(default_factory=lambda: mode_free_for_all(4))
    is_private: bool = True
    allow_spectators: bool = True
    snake_start_length: U8 = 4

    def seats(self) -> int:
        """How many players the game seats: one in mode Solo, two in Duel, else `max_players`
        (a FreeForAll mode's own max_players is only range-checked, docs/RULES.md)."""
        if self.game_mode == SOLO:
            return 1
        if self.game_mode == DUEL:
            return 2
        return self.max_players

    def validate(self) -> str | None:
        """Why these settings cannot be played (the AccessDenied reason), or None when fine."""
        checks = (
            ("arena_width", self.arena_width, ARENA_SIDE_RANGE),
            ("arena_height", self.arena_height, ARENA_SIDE_RANGE),
            ("tick_duration_ms", self.tick_duration_ms, TICK_MS_RANGE),
            ("max_players", self.max_players, MAX_PLAYERS_RANGE),
            ("snake_start_length", self.snake_start_length, START_LENGTH_RANGE),
        )
        for name, value, (low, high) in checks:
            if not low <= value <= high:
                return f"{name} must be between {low} and {high}"
        rate = self.food_spawn_rate
        low_rate, high_rate = FOOD_SPAWN_RATE_RANGE
        if rate != 0.0 and not low_rate <= rate <= high_rate:  # also refuses NaN and infinities
            return f"food_spawn_rate must be 0 or between {low_rate:g} and {high_rate:g}"
        free_for_all = self.game_mode.FreeForAll if isinstance(self.game_mode, GameModeObject) else None
        if free_for_all is not None and not (MAX_PLAYERS_RANGE[0] <= free_for_all.max_players <= MAX_PLAYERS_RANGE[1]):
            return f"game_mode max_players must be between {MAX_PLAYERS_RANGE[0]} and {MAX_PLAYERS_RANGE[1]}"
        # Start positions must fit: two facing columns of snakes, one row each.
        if 2 * self.snake_start_length + 2 > self.arena_width:
            return "arena_width is too small for snake_start_length"
        if (self.max_players + 1) // 2 + 4 > self.arena_height:
            return "arena_height is too small for max_players"
        return None


class Custom(Struct, frozen=True):
    settings: CustomGameSettings


class GameTypeObject(OneOf, frozen=True):
    TeamMatch: TeamMatch | None = None
    FreeForAll: FreeForAll | None = None
    Custom: Custom | None = None


GameType = Literal["Solo"] | GameTypeObject


def type_team_match(per_team: int) -> GameType:
    return GameTypeObject(TeamMatch=TeamMatch(per_team=per_team))


def type_free_for_all(max_players: int) -> GameType:
    return GameTypeObject(FreeForAll=FreeForAll(max_players=max_players))


def type_custom(settings: CustomGameSettings) -> GameType:
    return GameTypeObject(Custom=Custom(settings=settings))


# What a solo game is on the wire and in storage: a Custom game of mode Solo, as the
# original server created it. Existing clients treat a game as solo only in this form
# (their prediction ends any other one-snake game on its first tick); `"Solo"` is still
# read from clients and means the same.
SOLO_SETTINGS = CustomGameSettings(
    arena_width=40,
    arena_height=40,
    tick_duration_ms=100,
    food_spawn_rate=3.0,
    max_players=1,
    game_mode=SOLO,
    is_private=True,
    allow_spectators=False,
    snake_start_length=4,
)
SOLO_GAME_TYPE: GameType = type_custom(SOLO_SETTINGS)


def is_solo(game_type: GameType) -> bool:
    """`"Solo"`, or a Custom game of mode Solo."""
    if game_type == SOLO:
        return True
    return isinstance(game_type, GameTypeObject) and (
        game_type.Custom is not None and game_type.Custom.settings.game_mode == SOLO
    )


# --- commands ----------------------------------------------------------------------


class CommandId(Struct, frozen=True):
    tick: U32
    user_id: U32
    sequence_number: U32


class Turn(Struct, frozen=True, omit_defaults=True, kw_only=True):
    # A client may leave it out: the server then fills in the sender's snake.
    snake_id: U32 | None = None
    direction: Direction


class UpdateStatus(Struct, frozen=True):
    status: GameStatus


class GameCommand(OneOf, frozen=True):
    Turn: Turn | None = None
    UpdateStatus: UpdateStatus | None = None


class GameCommandMessage(Struct, frozen=True, kw_only=True):
    command_id_client: CommandId
    # Set by the server when it schedules the command; null from clients.
    command_id_server: CommandId | None = None
    command: GameCommand


# --- state -------------------------------------------------------------------------


class Snake(Struct):
    # Compressed: head first, then each turn point, then the tail.
    body: list[Position]
    direction: Direction
    is_alive: bool
    food: U32
    team_id: U8 | None


class TeamZoneConfig(Struct, frozen=True):
    end_zone_depth: U16
    goal_width: U16


class Arena(Struct):
    width: U16
    height: U16
    snakes: list[Snake]
    food: list[Position]
    team_zone_config: TeamZoneConfig | None


class GameProperties(Struct, frozen=True):
    available_food_target: U32
    tick_duration_ms: U32


class CommandQueueState(Struct):
    queue: list[GameCommandMessage]
    active_ids: list[CommandId]
    tombstone_ids: list[CommandId]


class PlayerEntry(Struct, frozen=True):
    user_id: U32
    snake_id: U32


class RngState(Struct, frozen=True):
    state: U64


class GameState(Struct):
    tick: U32
    status: GameStatus
    game_type: GameType
    start_ms: I64
    event_sequence: U64
    arena: Arena
    properties: GameProperties
    command_queue: CommandQueueState
    players: dict[U32, PlayerEntry]
    rng: RngState | None
    game_code: str | None
    host_user_id: U32 | None
    usernames: dict[U32, str]


# --- events ------------------------------------------------------------------------


class Snapshot(Struct):
    game_state: GameState


class SnakeTurned(Struct, frozen=True):
    snake_id: U32
    direction: Direction


class SnakeDied(Struct, frozen=True):
    snake_id: U32


class FoodSpawned(Struct, frozen=True):
    position: Position


class FoodEaten(Struct, frozen=True):
    snake_id: U32
    position: Position


class CommandScheduled(Struct, frozen=True):
    command_message: GameCommandMessage


class StatusUpdated(Struct, frozen=True):
    status: GameStatus


class GameEvent(OneOf, frozen=True):
    Snapshot: Snapshot | None = None
    SnakeTurned: SnakeTurned | None = None
    SnakeDied: SnakeDied | None = None
    FoodSpawned: FoodSpawned | None = None
    FoodEaten: FoodEaten | None = None
    CommandScheduled: CommandScheduled | None = None
    StatusUpdated: StatusUpdated | None = None


class GameEventMessage(Struct):
    game_id: U32
    tick: U32
    sequence: U64
    user_id: U32 | None
    event: GameEvent
