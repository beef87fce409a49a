"""Bot-played games for replay tests: a plan (drawn by hypothesis or written out) and
the game it plays, with the live event stream a spectator of it received."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from snaketron.engine import (
    SOLO,
    CommandId,
    CustomGameSettings,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameEventMessage,
    GameState,
    GameType,
    Turn,
    mode_free_for_all,
    type_custom,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.bot import choose_direction_on_board

MAX_TICKS = 400


@dataclass(frozen=True)
class Plan:
    game_type: GameType
    seats: int
    leavers: int  # players who join, then leave before the start
    seed: int
    steps: tuple[int, ...]  # ticks advanced between server turns
    lateness: tuple[int, ...]  # client tick offset of each command (negative: late)
    attach_every: int  # a spectator attaches every n-th server turn (0: none)
    abandon_at: int | None  # server turn at which the host goes away


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    kind = draw(st.sampled_from(["solo", "duel", "ffa", "custom"]))
    if kind == "solo":
        game_type, seats = SOLO, 1
    elif kind == "duel":
        game_type, seats = type_team_match(1), 2
    elif kind == "ffa":
        seats = draw(st.sampled_from([2, 3, 4, 6]))
        game_type = type_free_for_all(seats)
    else:
        seats = draw(st.integers(2, 4))
        game_type = type_custom(
            CustomGameSettings(
                arena_width=draw(st.integers(20, 40)), arena_height=20, max_players=4, tick_duration_ms=50
            )
        )
    return Plan(
        game_type=game_type,
        seats=seats,
        leavers=draw(st.integers(0, 2)) if seats < 4 and kind != "solo" else 0,
        seed=draw(st.integers(0, 2**64 - 1)),
        steps=tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=30))),
        lateness=tuple(draw(st.lists(st.integers(-3, 12), min_size=1, max_size=30))),
        attach_every=draw(st.integers(0, 5)) if kind == "custom" else draw(st.sampled_from([0, 7])),
        abandon_at=draw(st.one_of(st.none(), st.integers(0, 60))),
    )


def play(plan: Plan, max_ticks: int = MAX_TICKS) -> tuple[Game, list[GameEventMessage], GameState]:
    """Bots play the game; returns it, its live stream from the start, and the state before the start."""
    game = Game(7, plan.game_type, seed=plan.seed, server_id=3, game_code="ABCD1234", host_user_id=100)
    game.add_player(100, "bot0")
    if plan.attach_every:
        game.snapshot_event()  # someone watching the lobby
    for leaver in range(plan.leavers):  # joins after the first player, leaves: later seats move up
        game.add_player(900 + leaver, f"leaver{leaver}")
        game.remove_player(900 + leaver)
    for seat in range(1, plan.seats):
        game.add_player(100 + seat, f"bot{seat}")
    before_start = game.state
    live = game.start(1_700_000_000_000)
    turn_number = 0
    while not game.is_complete and game.tick < max_ticks:
        turn_number += 1
        if plan.abandon_at == turn_number:
            live += game.abandon()
            break
        if plan.attach_every and turn_number % plan.attach_every == 0:
            game.snapshot_event()  # one member's attach snapshot: not the game's stream, and no input
        for user_id, snake_id in game.players.items():
            direction = choose_direction_on_board(game, snake_id)
            if direction is None:
                continue
            client_tick = max(0, game.tick + plan.lateness[(turn_number + snake_id) % len(plan.lateness)])
            message = GameCommandMessage(
                command_id_client=CommandId(tick=client_tick, user_id=user_id, sequence_number=turn_number),
                command=GameCommand(Turn=Turn(snake_id=None if snake_id % 2 else snake_id, direction=direction)),
            )
            live.append(game.schedule_command(user_id, message))
        live += game.advance_to(game.tick + plan.steps[turn_number % len(plan.steps)] - 1)
    return game, live, before_start


def circling_game(ticks: int, game_id: int = 8) -> Game:
    """A public two-player custom game at 30 ms ticks with no food, whose snakes go
    round in squares until the host ends it after `ticks` ticks: how anyone can make a
    game as long as they like (games have no length limit)."""
    settings = CustomGameSettings(
        arena_width=40,
        arena_height=40,
        tick_duration_ms=30,
        food_spawn_rate=0.0,
        max_players=2,
        game_mode=mode_free_for_all(2),
        is_private=False,
    )
    game = Game(game_id, type_custom(settings), seed=1, server_id=3, game_code="LONG0001", host_user_id=100)
    game.add_player(100, "bot0")
    game.add_player(101, "bot1")
    game.start(1_700_000_000_000)
    # Snake 0 starts on the right heading left, snake 1 on the left heading right:
    # each turns every 6 ticks through a square on its own side.
    squares = {
        0: (Direction.UP, Direction.LEFT, Direction.DOWN, Direction.RIGHT),
        1: (Direction.DOWN, Direction.RIGHT, Direction.UP, Direction.LEFT),
    }
    turn_number = 0
    while game.tick < ticks and not game.is_complete:
        for user_id, snake_id in game.players.items():
            message = GameCommandMessage(
                command_id_client=CommandId(tick=game.tick, user_id=user_id, sequence_number=turn_number),
                command=GameCommand(Turn=Turn(snake_id=None, direction=squares[snake_id][turn_number % 4])),
            )
            game.schedule_command(user_id, message)
        turn_number += 1
        game.advance_to(game.tick + 6)
    assert not game.is_complete, "a snake died: the squares no longer fit the arena"
    game.abandon()
    return game
