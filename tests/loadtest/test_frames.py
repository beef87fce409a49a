"""The load generator decodes a game's event frame once for all its local bots."""

from __future__ import annotations

import pytest

from snaketron import protocol
from snaketron.engine import GameEvent, GameEventMessage, SnakeDied
from snaketron.loadtest.frames import REMEMBERED_FRAMES, SharedDecoder


def event_frame(sequence: int) -> bytes:
    message = GameEventMessage(
        game_id=7, tick=3, sequence=sequence, user_id=None, event=GameEvent(SnakeDied=SnakeDied(snake_id=1))
    )
    return protocol.encode_game_event(message)


def test_identical_event_frames_share_one_decoded_message():
    decoder = SharedDecoder()
    first = decoder.decode(event_frame(1))
    again = decoder.decode(bytes(event_frame(1)))  # another bot's copy of the same bytes
    assert again is first
    assert first.event.SnakeDied.snake_id == 1
    assert decoder.decode(event_frame(2)) is not first
    assert (decoder.decoded, decoder.shared) == (2, 1)


def test_other_frames_are_decoded_each_time():
    decoder = SharedDecoder()
    frame = protocol.encode_server_message(protocol.QueueLeft())
    assert isinstance(decoder.decode(frame), protocol.QueueLeft)
    assert decoder.decode(frame) is not None
    assert decoder.shared == 0


def test_memory_is_bounded():
    decoder = SharedDecoder()
    oldest = decoder.decode(event_frame(0))
    for sequence in range(1, REMEMBERED_FRAMES + 1):
        decoder.decode(event_frame(sequence))
    assert decoder.decode(event_frame(0)) is not oldest  # forgotten, decoded afresh


def test_bad_frames_raise_as_the_codec_does():
    with pytest.raises(protocol.ProtocolError):
        SharedDecoder().decode(b'{"GameEvent": {"game_id": "x"}}')
