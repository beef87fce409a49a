"""The engine's fast paths (issue 22) agree with the plain computation they replace.

`reference_game.ReferenceGame` is the engine as it was before the caches and
shortcuts; random games (random types, seeds, commands, advance steps, resumes)
are played through both, and every event, every rejection and the state after
every step must be identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_game import ReferenceGame

from snaketron.engine import (
    SOLO,
    CommandId,
    CommandRejected,
    CustomGameSettings,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameType,
    Turn,
    UpdateStatus,
    mode_free_for_all,
    status_started,
    type_custom,
    type_free_for_all,
    type_team_match,
)

TICKS = 120
OUTSIDER = 99  # a user who holds no seat


@dataclass(frozen=True)
class Command:
    tick: int  # sent just before this tick is computed
    seat: int  # a seat index, or -1 for OUTSIDER
    client_tick: int
    snake_id: str  # "none", "own" or "other"
    direction: Direction
    status: bool  # an UpdateStatus command instead of a Turn


@dataclass(frozen=True)
class Scenario:
    game_type: GameType
    players: int
    seed: int
    commands: tuple[Command, ...]
    steps: tuple[int, ...]  # ticks advanced per call to advance_to
    resume_at: int | None  # both games are rebuilt from their state before this tick
    snapshots: bool


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    kind = draw(st.sampled_from(["solo", "ffa", "duel", "team", "custom"]))
    if kind == "solo":
        game_type, players = SOLO, 1
    elif kind == "ffa":
        players = draw(st.integers(2, 8))
        game_type = type_free_for_all(players)
    elif kind == "duel":
        game_type, players = type_team_match(1), 2
    elif kind == "team":
        per_team = draw(st.integers(2, 3))
        game_type, players = type_team_match(per_team), 2 * per_team
    else:
        players = draw(st.integers(2, 4))
        side = draw(st.integers(12, 20))
        settings_ = CustomGameSettings(
            arena_width=side, arena_height=side, max_players=players, game_mode=mode_free_for_all(players)
        )
        game_type = type_custom(settings_)
    # Commands cluster in bursts so that snakes turn often, meet and die.
    commands = draw(
        st.lists(
            st.builds(
                Command,
                tick=st.integers(0, TICKS - 1),
                seat=st.integers(-1, players - 1),
                client_tick=st.integers(0, TICKS + 30),
                snake_id=st.sampled_from(["none", "none", "own", "other"]),
                direction=st.sampled_from(list(Direction)),
                status=st.sampled_from([False] * 9 + [True]),
            ),
            max_size=150,
        )
    )
    commands.sort(key=lambda c: c.tick)
    steps = draw(st.lists(st.integers(1, 4), min_size=1, max_size=8))
    resume_at = draw(st.none() | st.integers(1, TICKS - 1))
    return Scenario(
        game_type,
        players,
        draw(st.integers(0, 2**64 - 1)),
        tuple(commands),
        tuple(steps),
        resume_at,
        draw(st.booleans()),
    )


def _message(game: Game | ReferenceGame, command: Command, user_id: int) -> GameCommandMessage:
    if command.snake_id == "none":
        snake_id = None
    else:
        own = game.snake_of(user_id) or 0
        snake_id = own if command.snake_id == "own" else (own + 1) % max(1, game.player_count)
    body = (
        GameCommand(UpdateStatus=UpdateStatus(status=status_started(0)))
        if command.status
        else GameCommand(Turn=Turn(snake_id=snake_id, direction=command.direction))
    )
    return GameCommandMessage(
        command_id_client=CommandId(tick=command.client_tick, user_id=user_id, sequence_number=command.tick),
        command=body,
    )


def _schedule(game: Game | ReferenceGame, command: Command) -> bytes:
    """The CommandScheduled event, or the rejection's reason, as comparable bytes."""
    user_id = OUTSIDER if command.seat < 0 else 1000 + command.seat
    try:
        return msgspec.json.encode(game.schedule_command(user_id, _message(game, command, user_id)))
    except CommandRejected as rejected:
        return f"rejected: {rejected}".encode()


def _same_state(fast: Game, reference: ReferenceGame) -> None:
    assert msgspec.json.encode(fast.state) == msgspec.json.encode(reference.state)
    assert fast.is_complete == reference.is_complete
    assert fast.winning_snake_id == reference.winning_snake_id
    assert fast.placements() == reference.placements()
    assert fast.death_ticks() == reference.death_ticks()
    assert fast.snake_lengths() == reference.snake_lengths()
    for snake_id in range(fast.player_count):
        assert fast.road_ahead(snake_id, 12) == reference.road_ahead(snake_id, 12)


def play(scenario: Scenario) -> None:
    fast = Game(7, scenario.game_type, seed=scenario.seed)
    reference = ReferenceGame(7, scenario.game_type, seed=scenario.seed)
    for seat in range(scenario.players):
        assert fast.add_player(1000 + seat, f"p{seat}") == reference.add_player(1000 + seat, f"p{seat}")
    for game in (fast, reference):
        game.emits_snapshots = scenario.snapshots
    assert msgspec.json.encode(fast.start(0)) == msgspec.json.encode(reference.start(0))
    pending = list(scenario.commands)
    tick = 0
    step = 0
    while tick < TICKS:
        target = min(TICKS - 1, tick + scenario.steps[step % len(scenario.steps)] - 1)
        step += 1
        if scenario.resume_at is not None and tick <= scenario.resume_at <= target:
            state = reference.state
            fast = Game.from_state(7, state)
            reference = ReferenceGame.from_state(7, state)
            for game in (fast, reference):
                game.emits_snapshots = scenario.snapshots
        while pending and pending[0].tick <= target:
            command = pending.pop(0)
            assert _schedule(fast, command) == _schedule(reference, command)
        assert msgspec.json.encode(fast.advance_to(target)) == msgspec.json.encode(reference.advance_to(target))
        assert msgspec.json.encode(fast.snapshot_event()) == msgspec.json.encode(reference.snapshot_event())
        _same_state(fast, reference)
        tick = target + 1
    assert fast.recording() == reference.recording()


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(scenarios())
def test_the_fast_engine_plays_every_game_as_the_reference_does(scenario: Scenario) -> None:
    play(scenario)


def test_an_abandoned_game_agrees_with_the_reference() -> None:
    fast = Game(3, type_team_match(1), seed=5)
    reference = ReferenceGame(3, type_team_match(1), seed=5)
    for game in (fast, reference):
        game.add_player(1, "a")
        game.add_player(2, "b")
        game.start(0)
        game.advance_to(3)
    assert msgspec.json.encode(fast.abandon()) == msgspec.json.encode(reference.abandon())
    assert msgspec.json.encode(fast.advance_to(10)) == msgspec.json.encode(reference.advance_to(10))
    _same_state(fast, reference)
