"""The engine's types encode to exactly PROTOCOL.md's JSON shapes, and decode back to equal values."""

from __future__ import annotations

import json

import msgspec
import pytest

from snaketron.engine import (
    DUEL,
    SOLO,
    STOPPED,
    CommandId,
    CommandScheduled,
    CustomGameSettings,
    Direction,
    FoodEaten,
    FoodSpawned,
    Game,
    GameCommand,
    GameCommandMessage,
    GameEvent,
    GameEventMessage,
    GameMode,
    GameState,
    GameStatus,
    GameType,
    Position,
    SnakeDied,
    SnakeTurned,
    StatusUpdated,
    Turn,
    UpdateStatus,
    mode_free_for_all,
    status_complete,
    status_started,
    type_custom,
    type_free_for_all,
    type_team_match,
)
from support.wire_fields import GAME_EVENT_FIELDS, GAME_STATE_FIELDS


def _json(value: object) -> object:
    return json.loads(msgspec.json.encode(value))


def _snapshot_json(game: Game) -> dict:
    event = game.snapshot_event()
    return _json(event)


def test_snapshot_event_message_shape_field_by_field() -> None:
    game = Game(42, type_team_match(1), seed=7, server_id=3, game_code="ABCD", host_user_id=11)
    game.add_player(11, "alice")
    game.add_player(12, "bob")
    game.start(1_732_700_000_000)
    game.schedule_command(
        12,
        GameCommandMessage(
            command_id_client=CommandId(tick=4, user_id=12, sequence_number=1),
            command=GameCommand(Turn=Turn(direction=Direction.UP)),
        ),
    )
    message = _snapshot_json(game)
    assert set(message) == GAME_EVENT_FIELDS
    assert (message["game_id"], message["tick"], message["user_id"]) == (42, 0, None)
    assert isinstance(message["sequence"], int)
    assert list(message["event"]) == ["Snapshot"]
    assert list(message["event"]["Snapshot"]) == ["game_state"]

    state = message["event"]["Snapshot"]["game_state"]
    assert set(state) == GAME_STATE_FIELDS
    assert state["tick"] == 0
    assert state["status"] == {"Started": {"server_id": 3}}
    assert state["game_type"] == {"TeamMatch": {"per_team": 1}}
    assert state["start_ms"] == 1_732_700_000_000
    assert state["event_sequence"] == message["sequence"]
    assert state["properties"] == {"available_food_target": 10, "tick_duration_ms": 100}
    assert state["players"] == {"11": {"user_id": 11, "snake_id": 0}, "12": {"user_id": 12, "snake_id": 1}}
    assert state["usernames"] == {"11": "alice", "12": "bob"}
    assert set(state["rng"]) == {"state"} and 0 < state["rng"]["state"] < 2**64
    assert (state["game_code"], state["host_user_id"]) == ("ABCD", 11)

    arena = state["arena"]
    assert set(arena) == {"width", "height", "snakes", "food", "team_zone_config"}
    assert (arena["width"], arena["height"]) == (60, 40)
    assert arena["team_zone_config"] == {"end_zone_depth": 10, "goal_width": 9}
    assert len(arena["food"]) == 10 and all(set(p) == {"x", "y"} for p in arena["food"])
    assert arena["snakes"][0] == {
        "body": [{"x": 5, "y": 20}, {"x": 2, "y": 20}],
        "direction": "Right",
        "is_alive": True,
        "food": 0,
        "team_id": 0,
    }
    assert arena["snakes"][1]["direction"] == "Left" and arena["snakes"][1]["team_id"] == 1

    queue = state["command_queue"]
    assert set(queue) == {"queue", "active_ids", "tombstone_ids"}
    assert (queue["active_ids"], queue["tombstone_ids"]) == ([], [])
    assert queue["queue"] == [
        {
            "command_id_client": {"tick": 4, "user_id": 12, "sequence_number": 1},
            "command_id_server": {"tick": 4, "user_id": 12, "sequence_number": 0},
            "command": {"Turn": {"snake_id": 1, "direction": "Up"}},
        }
    ]


def test_a_stopped_free_for_all_snapshot_has_no_team_zones_and_a_bare_status() -> None:
    game = Game(1, type_free_for_all(4), seed=1)
    game.add_player(1, "a")
    state = _snapshot_json(game)["event"]["Snapshot"]["game_state"]
    assert state["status"] == "Stopped"
    assert state["arena"]["team_zone_config"] is None
    assert state["arena"]["snakes"][0]["team_id"] is None
    assert state["start_ms"] == 0


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            GameEvent(SnakeTurned=SnakeTurned(snake_id=2, direction=Direction.DOWN)),
            {"SnakeTurned": {"snake_id": 2, "direction": "Down"}},
        ),
        (GameEvent(SnakeDied=SnakeDied(snake_id=1)), {"SnakeDied": {"snake_id": 1}}),
        (GameEvent(FoodSpawned=FoodSpawned(position=Position(3, 4))), {"FoodSpawned": {"position": {"x": 3, "y": 4}}}),
        (
            GameEvent(FoodEaten=FoodEaten(snake_id=0, position=Position(3, 4))),
            {"FoodEaten": {"snake_id": 0, "position": {"x": 3, "y": 4}}},
        ),
        (
            GameEvent(StatusUpdated=StatusUpdated(status=status_complete(None))),
            {"StatusUpdated": {"status": {"Complete": {"winning_snake_id": None}}}},
        ),
        (GameEvent(StatusUpdated=StatusUpdated(status=STOPPED)), {"StatusUpdated": {"status": "Stopped"}}),
        (
            GameEvent(
                CommandScheduled=CommandScheduled(
                    command_message=GameCommandMessage(
                        command_id_client=CommandId(1, 2, 3),
                        command=GameCommand(UpdateStatus=UpdateStatus(status=status_started(9))),
                    )
                )
            ),
            {
                "CommandScheduled": {
                    "command_message": {
                        "command_id_client": {"tick": 1, "user_id": 2, "sequence_number": 3},
                        "command_id_server": None,
                        "command": {"UpdateStatus": {"status": {"Started": {"server_id": 9}}}},
                    }
                }
            },
        ),
    ],
)
def test_each_event_variant_is_a_one_key_object_and_round_trips(event: GameEvent, expected: dict) -> None:
    assert _json(event) == expected
    message = GameEventMessage(game_id=1, tick=2, sequence=3, user_id=None, event=event)
    assert msgspec.json.decode(msgspec.json.encode(message), type=GameEventMessage) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SOLO, "Solo"),
        (type_team_match(3), {"TeamMatch": {"per_team": 3}}),
        (type_free_for_all(8), {"FreeForAll": {"max_players": 8}}),
    ],
)
def test_game_type_shapes(value: GameType, expected: object) -> None:
    assert _json(value) == expected
    assert msgspec.json.decode(msgspec.json.encode(value), type=GameType) == value


def test_custom_game_type_carries_every_setting() -> None:
    value = type_custom(CustomGameSettings(arena_width=50, game_mode=DUEL))
    assert _json(value) == {
        "Custom": {
            "settings": {
                "arena_width": 50,
                "arena_height": 40,
                "tick_duration_ms": 100,
                "food_spawn_rate": 3.0,
                "max_players": 4,
                "game_mode": "Duel",
                "is_private": True,
                "allow_spectators": True,
                "snake_start_length": 4,
            }
        }
    }
    assert msgspec.json.decode(msgspec.json.encode(value), type=GameType) == value


@pytest.mark.parametrize(
    ("mode", "expected"), [(SOLO, "Solo"), (DUEL, "Duel"), (mode_free_for_all(5), {"FreeForAll": {"max_players": 5}})]
)
def test_game_mode_shapes(mode: GameMode, expected: object) -> None:
    assert _json(mode) == expected
    assert msgspec.json.decode(msgspec.json.encode(mode), type=GameMode) == mode


@pytest.mark.parametrize(
    "raw",
    [
        b"{}",
        b'{"Started": {"server_id": 1}, "Complete": {"winning_snake_id": 1}}',
        b'{"Paused": {}}',
        b'"Running"',
        b'{"Started": {"server_id": -1}}',
    ],
)
def test_the_decoder_refuses_malformed_enums(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=GameStatus)


def test_a_client_turn_may_omit_the_snake_id() -> None:
    raw = b'{"command_id_client":{"tick":1,"user_id":2,"sequence_number":3},"command_id_server":null,"command":{"Turn":{"direction":"Left"}}}'
    message = msgspec.json.decode(raw, type=GameCommandMessage)
    assert message.command.Turn == Turn(direction=Direction.LEFT)
    assert message.command.Turn.snake_id is None


def test_a_whole_game_state_round_trips() -> None:
    game = Game(5, type_free_for_all(4), seed=9, server_id=1)
    for user in range(4):
        game.add_player(user, f"u{user}")
    game.start(10)
    game.advance_to(25)
    state = game.state
    assert msgspec.json.decode(msgspec.json.encode(state), type=GameState) == state
