"""The browser client's codec and the server's agree: every message the client can send
decodes with `snaketron.protocol`, and the client reads every kind of server frame."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from snaketron.protocol import decode_client_message, decode_server_message

NODE = shutil.which("node")
SAMPLES = Path(__file__).parent / "js" / "codec_samples.mjs"

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the client's codec cannot run")

# One frame of every server message kind, in PROTOCOL.md's shapes.
SERVER_FRAMES = {
    "Pong": '"Pong"',
    "ClockSyncResponse": '{"ClockSyncResponse":{"client_time":1,"server_time":2}}',
    "JoinGame": '{"JoinGame":17}',
    "GameEvent": '{"GameEvent":{"game_id":1,"tick":3,"sequence":9,"user_id":null,'
    '"event":{"SnakeDied":{"snake_id":0}}}}',
    "CustomGameCreated": '{"CustomGameCreated":{"game_id":4,"game_code":"K7Q2"}}',
    "CustomGameJoined": '{"CustomGameJoined":{"game_id":4}}',
    "CustomGameSettingsUpdated": '{"CustomGameSettingsUpdated":{"settings":{"arena_width":40,"arena_height":40,'
    '"tick_duration_ms":100,"food_spawn_rate":3.0,"max_players":4,"game_mode":"Duel","is_private":true,'
    '"allow_spectators":true,"snake_start_length":4}}}',
    "CustomGameStarting": '"CustomGameStarting"',
    "SpectatorJoined": '"SpectatorJoined"',
    "SoloGameCreated": '{"SoloGameCreated":{"game_id":8}}',
    "AccessDenied": '{"AccessDenied":{"reason":"full"}}',
    "QueueUpdate": '{"QueueUpdate":{"position":1,"estimated_wait_seconds":5}}',
    "QueueLeft": '"QueueLeft"',
    "Shutdown": '"Shutdown"',
    "ServerShutdown": '{"ServerShutdown":{"reason":"upgrade","grace_period_seconds":30}}',
    "Authenticated": '{"Authenticated":{"user_id":7,"username":"ann"}}',
    "Error": '{"Error":{"code":"invalid_json","message":"bad"}}',
    "ChatMessage": '{"ChatMessage":{"game_id":4,"user_id":7,"username":"ann","text":"gg"}}',
}


@pytest.fixture(scope="module")
def samples() -> dict:
    result = subprocess.run(
        [NODE, str(SAMPLES)],
        input=json.dumps(list(SERVER_FRAMES.values())),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_client_message_decodes_on_the_server(samples):
    decoded = [decode_client_message(frame) for frame in samples["client"]]
    names = {type(message).__name__ for message in decoded}
    # GameCommand decodes to its payload, the engine's GameCommandMessage.
    assert {"Token", "GameCommandMessage", "CreateCustomGame", "SpectateGame", "QueueForMatch"} <= names
    assert len(decoded) == 20


def test_the_server_frames_are_valid_and_the_client_reads_each_kind(samples):
    for frame in SERVER_FRAMES.values():
        decode_server_message(frame)  # the samples are real server messages
    assert samples["server"] == list(SERVER_FRAMES)
