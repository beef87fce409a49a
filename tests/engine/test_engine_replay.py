"""A recording computed again gives the live event stream, event for event (hypothesis).

The "live" stream is what the engine handed the server from the start on: every
tick's events, every CommandScheduled and every Snapshot a member got on attaching;
a spectator receives each of them (phase B of issue 21 checks it over the wire).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snaketron.engine import (
    RULES_VERSION,
    SOLO,
    CommandId,
    CustomGameSettings,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameEventMessage,
    GameType,
    ReplayMismatch,
    Turn,
    replay_events,
    type_custom,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.bot import choose_direction_on_board
from snaketron.engine.recording import Began, Commanded, Joined, SnapshotTaken

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


def play(plan: Plan) -> tuple[Game, list[GameEventMessage], GameEventMessage]:
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
    while not game.is_complete and game.tick < MAX_TICKS:
        turn_number += 1
        if plan.abandon_at == turn_number:
            live += game.abandon()
            break
        if plan.attach_every and turn_number % plan.attach_every == 0:
            live.append(game.snapshot_event())
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


_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(plans())
def test_the_replay_is_the_live_stream_event_for_event(plan: Plan) -> None:
    game, live, before_start = play(plan)
    recording = game.recording()
    assert recording is not None
    replayed = replay_events(recording)
    opening = replayed[0]
    assert opening.event.Snapshot is not None
    assert msgspec.json.encode(opening.event.Snapshot.game_state) == msgspec.json.encode(before_start)
    assert msgspec.json.encode(replayed[1:]) == msgspec.json.encode(live)
    assert replayed[-1].event.StatusUpdated is not None or not game.is_complete


def test_a_recording_survives_its_encoding() -> None:
    plan = Plan(type_team_match(1), 2, 1, 42, (1, 2), (0, 5, -2), 3, None)
    game, live, _ = play(plan)
    recording = game.recording()
    assert recording is not None
    assert recording.rules_version == RULES_VERSION
    assert [seat for seat, _ in recording.seats] == [100, 101]
    assert recording.start_ms == 1_700_000_000_000
    kinds = {type(entry) for entry in recording.inputs}
    assert {Joined, Began, Commanded, SnapshotTaken} <= kinds
    decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(recording), type=type(recording))
    assert decoded == recording
    assert msgspec.json.encode(replay_events(decoded)[1:]) == msgspec.json.encode(live)


def test_a_resumed_game_has_no_recording() -> None:
    game = Game(1, SOLO, seed=5)
    game.add_player(1, "a")
    game.start(0)
    assert Game.from_state(1, game.state).recording() is None


def test_other_rules_are_refused_not_shown_wrongly() -> None:
    game, _, _ = play(Plan(SOLO, 1, 0, 9, (3,), (0,), 0, None))
    recording = game.recording()
    assert recording is not None
    with pytest.raises(ReplayMismatch, match="rules version 0"):
        replay_events(msgspec.structs.replace(recording, rules_version=0))


def test_a_different_outcome_is_a_mismatch() -> None:
    game, _, _ = play(Plan(type_free_for_all(3), 3, 0, 11, (2,), (1,), 0, None))
    recording = game.recording()
    assert recording is not None
    # A command dropped changes the game: the end no longer matches the digest.
    inputs = tuple(e for i, e in enumerate(recording.inputs) if not (isinstance(e, Commanded) and i % 3 == 0))
    assert len(inputs) < len(recording.inputs)
    with pytest.raises(ReplayMismatch):
        replay_events(msgspec.structs.replace(recording, inputs=inputs))


def test_a_wrong_digest_is_a_mismatch() -> None:
    game, _, _ = play(Plan(SOLO, 1, 0, 3, (1,), (0,), 0, None))
    recording = game.recording()
    assert recording is not None
    with pytest.raises(ReplayMismatch, match="did not reach the recorded end"):
        replay_events(msgspec.structs.replace(recording, final_digest="0" * 32))


def test_recording_adds_nothing_per_tick() -> None:
    game = Game(1, type_free_for_all(2), seed=1)
    game.add_player(1, "a")
    game.add_player(2, "b")
    game.start(0)
    game.advance_to(50)
    recording = game.recording()
    assert recording is not None
    assert len(recording.inputs) == 3  # two joins and the start; fifty ticks added none
    assert Direction.UP in Direction
