"""Properties that hold for any seed and any command script (hypothesis)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import msgspec
from engine_boards import turn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snaketron.engine import (
    SOLO,
    Direction,
    Game,
    GameEventMessage,
    GameType,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.body import expand

TICKS = 80


@dataclass(frozen=True)
class Scenario:
    game_type: GameType
    players: int
    seed: int
    # (client tick, seat, direction), sent in this order just before that tick is computed
    commands: tuple[tuple[int, int, Direction], ...]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    kind = draw(st.sampled_from(["solo", "ffa", "duel", "team"]))
    if kind == "solo":
        game_type, players = SOLO, 1
    elif kind == "ffa":
        players = draw(st.integers(2, 10))
        game_type = type_free_for_all(players)
    elif kind == "duel":
        game_type, players = type_team_match(1), 2
    else:
        per_team = draw(st.integers(2, 3))
        game_type, players = type_team_match(per_team), 2 * per_team
    commands = draw(
        st.lists(
            st.tuples(st.integers(0, TICKS - 1), st.integers(0, players - 1), st.sampled_from(list(Direction))),
            max_size=120,
        )
    )
    commands.sort(key=lambda c: c[0])
    return Scenario(game_type, players, draw(st.integers(0, 2**64 - 1)), tuple(commands))


def play(scenario: Scenario, check: bool = False) -> list[GameEventMessage]:
    game = Game(1, scenario.game_type, seed=scenario.seed)
    for seat in range(scenario.players):
        game.add_player(1000 + seat, f"p{seat}")
    start_length = len(expand(game.state.arena.snakes[0].body))
    events = game.start(0)
    pending = list(scenario.commands)
    eaten: Counter[int] = Counter()
    for tick in range(TICKS):
        while pending and pending[0][0] <= tick:
            client_tick, seat, direction = pending.pop(0)
            if not game.is_complete:
                events.append(turn(game, 1000 + seat, direction, tick=client_tick))
        new = game.advance_to(tick)
        events += new
        if check:
            eaten.update(e.event.value.snake_id for e in new if e.event.tag == "FoodEaten")
            check_invariants(game, start_length, eaten)
    return events


def check_invariants(game: Game, start_length: int, eaten: Counter[int]) -> None:
    arena = game.state.arena
    live_cells: list[tuple[int, int]] = []
    for snake_id, snake in enumerate(arena.snakes):
        cells = expand(snake.body)
        # Length is the start length plus food eaten (pending growth included).
        assert len(cells) + snake.food == start_length + eaten[snake_id]
        if snake.is_alive:
            live_cells += cells
            assert all(0 <= x < arena.width and 0 <= y < arena.height for x, y in cells)
    # No two live snakes share a cell (nor does one overlap itself).
    assert len(live_cells) == len(set(live_cells))
    food = [(p.x, p.y) for p in arena.food]
    assert len(food) == len(set(food)) <= 10
    assert not set(food) & set(live_cells)
    if arena.team_zone_config is not None:
        depth = arena.team_zone_config.end_zone_depth
        assert all(depth <= x < arena.width - depth for x, _ in food)


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(scenarios())
def test_invariants_hold_after_every_tick(scenario: Scenario) -> None:
    play(scenario, check=True)


@_SETTINGS
@given(scenarios())
def test_the_same_seed_and_commands_give_the_same_events(scenario: Scenario) -> None:
    first = msgspec.json.encode(play(scenario))
    assert first == msgspec.json.encode(play(scenario))


@_SETTINGS
@given(scenarios())
def test_sequences_have_no_gaps_and_ticks_never_go_back(scenario: Scenario) -> None:
    events = play(scenario)
    # Each event takes the next number; a Snapshot repeats the last one (its state's
    # event_sequence), as the original server's.
    for before, event in itertools.pairwise(events):
        step = 0 if event.event.tag == "Snapshot" else 1
        assert event.sequence == before.sequence + step
    ticks = [e.tick for e in events if e.event.tag != "CommandScheduled"]
    assert ticks == sorted(ticks)


@_SETTINGS
@given(scenarios(), st.integers(1, TICKS - 1))
def test_a_game_resumed_from_any_snapshot_continues_identically(scenario: Scenario, cut: int) -> None:
    game = Game(1, scenario.game_type, seed=scenario.seed)
    for seat in range(scenario.players):
        game.add_player(1000 + seat, f"p{seat}")
    game.start(0)
    for client_tick, seat, direction in scenario.commands:
        if game.is_complete:
            break
        turn(game, 1000 + seat, direction, tick=client_tick)
    game.advance_to(cut - 1)
    resumed = Game.from_state(1, game.state)
    assert msgspec.json.encode(resumed.advance_to(TICKS)) == msgspec.json.encode(game.advance_to(TICKS))
