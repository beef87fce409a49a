"""Decoding what the bots receive, once per distinct frame.

The server sends the very same bytes to every member of a game, so the bots of
one game in this process receive identical frames within moments of each other.
Game event frames are decoded once and the decoded message is shared (bots only
read messages); other frames are per connection and decoded as they come.
"""

from __future__ import annotations

from snaketron import protocol

GAME_EVENT_PREFIX = b'{"GameEvent":'
# Frames of one tick reach the bots of a game within milliseconds; a few hundred
# recent frames cover that window for thousands of games.
REMEMBERED_FRAMES = 512


class SharedDecoder:
    def __init__(self) -> None:
        self._recent: dict[bytes, protocol.ServerMessage] = {}
        self.decoded = 0
        self.shared = 0

    def decode(self, frame: bytes) -> protocol.ServerMessage:
        """Raises protocol.ProtocolError like `decode_server_message`."""
        if not frame.startswith(GAME_EVENT_PREFIX):
            return protocol.decode_server_message(frame)
        message = self._recent.get(frame)
        if message is not None:
            self.shared += 1
            return message
        message = protocol.decode_server_message(frame)
        self.decoded += 1
        recent = self._recent
        recent[frame] = message
        if len(recent) > REMEMBERED_FRAMES:
            del recent[next(iter(recent))]  # the oldest: dicts keep insertion order
        return message
