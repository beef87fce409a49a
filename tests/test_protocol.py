"""Whole messages: PROTOCOL.md's JSON for every client and server message, round trips, errors."""

from __future__ import annotations

import json

import msgspec
import pytest

from snaketron import protocol as p
from snaketron.engine import (
    DUEL,
    CommandId,
    CustomGameSettings,
    Direction,
    Game,
    GameCommand,
    GameCommandMessage,
    GameEvent,
    GameEventMessage,
    SnakeDied,
    Turn,
    mode_free_for_all,
    type_free_for_all,
    type_team_match,
)

_TURN = GameCommandMessage(
    command_id_client=CommandId(tick=12, user_id=3, sequence_number=7),
    command=GameCommand(Turn=Turn(direction=Direction.RIGHT)),
)

CLIENT_CASES: list[tuple[p.ClientMessage, object]] = [
    (p.Token(token="a.b.c"), {"Token": "a.b.c"}),
    (p.Ping(), "Ping"),
    (p.ClockSyncRequest(client_time=1_732_700_000_000), {"ClockSyncRequest": {"client_time": 1_732_700_000_000}}),
    (p.QueueForMatch(game_type=type_team_match(2)), {"QueueForMatch": {"game_type": {"TeamMatch": {"per_team": 2}}}}),
    (p.QueueForMatch(game_type="Solo"), {"QueueForMatch": {"game_type": "Solo"}}),
    (p.LeaveQueue(), "LeaveQueue"),
    (p.JoinGame(game_id=17), {"JoinGame": 17}),
    (p.LeaveGame(), "LeaveGame"),
    (
        _TURN,
        {
            "GameCommand": {
                "command_id_client": {"tick": 12, "user_id": 3, "sequence_number": 7},
                "command_id_server": None,
                "command": {"Turn": {"direction": "Right"}},
            }
        },
    ),
    (
        p.CreateCustomGame(settings=CustomGameSettings(arena_width=60, game_mode=DUEL)),
        {
            "CreateCustomGame": {
                "settings": {
                    "arena_width": 60,
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
        },
    ),
    (p.JoinCustomGame(game_code="XK2P9Q"), {"JoinCustomGame": {"game_code": "XK2P9Q"}}),
    (
        p.UpdateCustomGameSettings(settings=p.CustomGameSettingsPatch(max_players=8)),
        {"UpdateCustomGameSettings": {"settings": {"max_players": 8}}},
    ),
    (p.StartCustomGame(), "StartCustomGame"),
    (p.SpectateGame(game_id=5, game_code=None), {"SpectateGame": {"game_id": 5, "game_code": None}}),
    (p.SpectateGame(game_id=5, game_code="ABC"), {"SpectateGame": {"game_id": 5, "game_code": "ABC"}}),
    (p.CreateSoloGame(), "CreateSoloGame"),
    (p.Chat(text="gg"), {"Chat": "gg"}),
]


def _event_message() -> GameEventMessage:
    return GameEventMessage(game_id=4, tick=9, sequence=31, user_id=None, event=GameEvent(SnakeDied=SnakeDied(2)))


SERVER_CASES: list[tuple[p.ServerMessage, object]] = [
    (p.Pong(), "Pong"),
    (p.ClockSyncResponse(client_time=5, server_time=9), {"ClockSyncResponse": {"client_time": 5, "server_time": 9}}),
    (p.MatchFound(game_id=17), {"JoinGame": 17}),
    (
        _event_message(),
        {
            "GameEvent": {
                "game_id": 4,
                "tick": 9,
                "sequence": 31,
                "user_id": None,
                "event": {"SnakeDied": {"snake_id": 2}},
            }
        },
    ),
    (p.CustomGameCreated(game_id=3, game_code="ABCD"), {"CustomGameCreated": {"game_id": 3, "game_code": "ABCD"}}),
    (p.CustomGameJoined(game_id=3), {"CustomGameJoined": {"game_id": 3}}),
    (p.CustomGameSettingsUpdated(settings=CustomGameSettings()), None),
    (p.CustomGameStarting(), "CustomGameStarting"),
    (p.SpectatorJoined(), "SpectatorJoined"),
    (p.SoloGameCreated(game_id=8), {"SoloGameCreated": {"game_id": 8}}),
    (p.AccessDenied(reason="full"), {"AccessDenied": {"reason": "full"}}),
    (
        p.QueueUpdate(position=2, estimated_wait_seconds=10),
        {"QueueUpdate": {"position": 2, "estimated_wait_seconds": 10}},
    ),
    (p.QueueLeft(), "QueueLeft"),
    (p.Shutdown(), "Shutdown"),
    (
        p.ServerShutdown(reason="deploy", grace_period_seconds=30),
        {"ServerShutdown": {"reason": "deploy", "grace_period_seconds": 30}},
    ),
    (p.Authenticated(user_id=12, username="ann"), {"Authenticated": {"user_id": 12, "username": "ann"}}),
    (p.Error(code="invalid_json", message="bad"), {"Error": {"code": "invalid_json", "message": "bad"}}),
    (
        p.ChatMessage(game_id=1, user_id=2, username="ann", text="hi"),
        {"ChatMessage": {"game_id": 1, "user_id": 2, "username": "ann", "text": "hi"}},
    ),
]


@pytest.mark.parametrize(("message", "expected"), CLIENT_CASES, ids=lambda v: type(v).__name__)
def test_client_messages_encode_to_protocol_json_and_round_trip(message: object, expected: object) -> None:
    encoded = p.encode_client_message(message)
    if expected is not None:
        assert json.loads(encoded) == expected
    assert p.decode_client_message(encoded) == message
    assert p.decode_client_message(encoded.decode()) == message


@pytest.mark.parametrize(("message", "expected"), SERVER_CASES, ids=lambda v: type(v).__name__)
def test_server_messages_encode_to_protocol_json_and_round_trip(message: object, expected: object) -> None:
    encoded = p.encode_server_message(message)
    if expected is not None:
        assert json.loads(encoded) == expected
    assert p.decode_server_message(encoded) == message


def test_every_message_type_is_covered() -> None:
    client_types = {type(m) for m, _ in CLIENT_CASES}
    server_types = {type(m) for m, _ in SERVER_CASES}
    assert client_types == set(p.ClientMessage.__args__)
    assert server_types == set(p.ServerMessage.__args__)


def test_encode_game_event_is_the_server_frame() -> None:
    event = _event_message()
    assert p.encode_game_event(event) == p.encode_server_message(event)


def test_a_snapshot_frame_round_trips() -> None:
    game = Game(3, type_free_for_all(2), seed=4)
    game.add_player(1, "a")
    game.add_player(2, "b")
    game.start(0)
    snapshot = game.advance_to(0)[0]
    assert p.decode_server_message(p.encode_game_event(snapshot)) == snapshot


def test_partial_custom_settings_take_the_defaults() -> None:
    message = p.decode_client_message(b'{"CreateCustomGame": {"settings": {"arena_width": 60, "game_mode": "Solo"}}}')
    assert message == p.CreateCustomGame(settings=CustomGameSettings(arena_width=60, game_mode="Solo"))
    defaults = p.decode_client_message(b'{"CreateCustomGame": {"settings": {}}}').settings
    assert defaults == CustomGameSettings(
        arena_width=40,
        arena_height=40,
        tick_duration_ms=100,
        food_spawn_rate=3.0,
        max_players=4,
        game_mode=mode_free_for_all(4),
        is_private=True,
        allow_spectators=True,
        snake_start_length=4,
    )
    assert defaults.validate() is None


def test_settings_update_changes_only_the_fields_present() -> None:
    current = CustomGameSettings(arena_width=60, max_players=8, is_private=False)
    patch = p.decode_client_message(b'{"UpdateCustomGameSettings": {"settings": {"max_players": 3}}}').settings
    assert patch.apply_to(current) == CustomGameSettings(arena_width=60, max_players=3, is_private=False)
    empty = p.decode_client_message(b'{"UpdateCustomGameSettings": {"settings": {}}}').settings
    assert empty.apply_to(current) == current


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"arena_width": 9}, "arena_width"),
        ({"arena_height": 201}, "arena_height"),
        ({"tick_duration_ms": 29}, "tick_duration_ms"),
        ({"tick_duration_ms": 1001}, "tick_duration_ms"),
        ({"max_players": 0}, "max_players"),
        ({"max_players": 17}, "max_players"),
        ({"snake_start_length": 0}, "snake_start_length"),
        ({"snake_start_length": 21}, "snake_start_length"),
        ({"game_mode": {"FreeForAll": {"max_players": 40}}}, "max_players"),
        ({"arena_width": 12, "snake_start_length": 6}, "arena_width"),
    ],
)
def test_out_of_range_settings_decode_but_validate_reports_why(fields: dict, word: str) -> None:
    # Refused with AccessDenied by the server, so the decoder must let them through.
    raw = json.dumps({"CreateCustomGame": {"settings": fields}})
    reason = p.decode_client_message(raw).settings.validate()
    assert reason is not None and word in reason


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"", "invalid_json"),
        (b'"Dance"', "unknown_message"),
        (b'{"Dance": 1}', "unknown_message"),
        (b"17", "invalid_message"),
        (b"[]", "invalid_message"),
        (b"{}", "invalid_message"),
        (b'{"Ping": null, "LeaveQueue": null}', "invalid_message"),
        (b'"Token"', "invalid_message"),
        (b'{"Ping": 3}', "invalid_message"),
        (b'{"JoinGame": "17a"}', "invalid_message"),
        (b'{"JoinGame": " 17"}', "invalid_message"),
        (b'{"JoinGame": "-1"}', "invalid_message"),
        (b'{"JoinGame": "4294967296"}', "invalid_message"),
        (b'{"SpectateGame": {"game_id": "three"}}', "invalid_message"),
        (b'{"JoinGame": -1}', "invalid_message"),
        (b'{"JoinGame": 4294967296}', "invalid_message"),
        (b'{"ClockSyncRequest": {}}', "invalid_message"),
        (b'{"GameCommand": {"command": {"Turn": {"direction": "Sideways"}}}}', "invalid_message"),
        (
            b'{"GameCommand": {"command_id_client": {"tick": 1, "user_id": 1, "sequence_number": 1}, "command": {}}}',
            "invalid_message",
        ),
        (b'{"CreateCustomGame": {"settings": {"arena_width": 70000}}}', "invalid_message"),
        (b'{"Chat": ""}', "invalid_message"),
        (b'{"Chat": "' + b"x" * 600 + b'"}', "invalid_message"),
    ],
)
def test_bad_frames_raise_protocol_errors_with_machine_codes(raw: bytes, code: str) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        p.decode_client_message(raw)
    assert caught.value.code == code
    assert caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"JoinGame": "17"}', p.JoinGame(game_id=17)),
        (b'{"JoinGame": "4294967295"}', p.JoinGame(game_id=4294967295)),
        (b'{"SpectateGame": {"game_id": "3", "game_code": null}}', p.SpectateGame(game_id=3)),
        (b'{"SpectateGame": {"game_id": "3", "game_code": "AB12CD34"}}', p.SpectateGame(3, "AB12CD34")),
    ],
)
def test_ids_sent_as_decimal_strings_are_read_as_numbers(raw: bytes, expected: object) -> None:
    assert p.decode_client_message(raw) == expected


def test_a_unit_message_written_as_an_object_with_null_is_accepted() -> None:
    assert p.decode_client_message(b'{"Ping": null}') == p.Ping()


def test_a_server_message_is_not_a_client_message() -> None:
    with pytest.raises(p.ProtocolError) as caught:
        p.decode_client_message(p.encode_server_message(p.Pong()))
    assert caught.value.code == "unknown_message"
    with pytest.raises(TypeError):
        p.encode_server_message(p.Ping())  # type: ignore[arg-type]


def test_encoded_frames_are_compact_json_text() -> None:
    frame = p.encode_server_message(p.QueueUpdate(position=1, estimated_wait_seconds=2))
    assert frame == b'{"QueueUpdate":{"position":1,"estimated_wait_seconds":2}}'
    assert msgspec.json.decode(frame) == {"QueueUpdate": {"position": 1, "estimated_wait_seconds": 2}}
