"""A recording computed again gives the live event stream, event for event (hypothesis).

The "live" stream is what the engine handed the server from the start on for every
member: every tick's events (periodic snapshots included) and every CommandScheduled.
Members attach along the way (their own snapshot is no part of it and no input);
tests/matchmaking/test_mm_history.py checks the same over the wire.
"""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

from snaketron.engine import (
    RULES_VERSION,
    SOLO,
    Direction,
    Game,
    ReplayMismatch,
    replay_events,
    type_free_for_all,
    type_team_match,
)
from snaketron.engine.recording import Began, Commanded, Joined, Left
from support.replay_games import Plan, plans, play

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
    assert kinds == {Joined, Left, Began, Commanded}, "an attach snapshot is no input"
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
