"""A blocking game-protocol connection, for fuzzers that run in their own thread.

Hypothesis calls its test function synchronously, so the fuzzing side runs in a
worker thread with websockets' threading client while the server keeps the event
loop (and its tick timers) to itself.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from typing import TypeVar

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from snaketron import protocol
from snaketron.engine import GameEventMessage

M = TypeVar("M")

# ClockSyncRequest times that mark the end of one probe; far from anything a
# fuzzer is likely to send.
_sentinels = itertools.count(7_000_000_000_001)


class Closed(Exception):
    """The server closed the connection; `code` and `reason` say how."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class SyncPlayer:
    def __init__(self, url: str) -> None:
        self._stack = contextlib.ExitStack()
        # max_queue=None: the reading thread never stops reading, so a server's close
        # frame is answered at once even while we are busy sending a storm of frames
        # (with a bounded queue the server waits out its close timeout, 10 s).
        self.connection: ClientConnection = self._stack.enter_context(
            connect(url, compression=None, proxy=None, open_timeout=10, max_queue=None)
        )
        self.user_id = 0
        self.events = 0  # game events received (and passed over)

    def close(self) -> None:
        self._stack.close()

    def send(self, message: protocol.ClientMessage) -> None:
        self.connection.send(protocol.encode_client_message(message), text=True)

    def send_raw(self, data: str | bytes, *, text: bool | None = None) -> None:
        """Send one frame; bytes go out as a binary frame unless `text` says otherwise."""
        self.connection.send(data, text=text)

    def recv(self, timeout: float = 5.0) -> protocol.ServerMessage:
        try:
            frame = self.connection.recv(timeout)
        except ConnectionClosed:
            raise Closed(self.connection.close_code, self.connection.close_reason or "") from None
        return protocol.decode_server_message(frame)

    def expect(self, kind: type[M], timeout: float = 5.0) -> M:
        """The next message of `kind`; game events before it are passed over, anything
        else fails."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(max(0.01, deadline - time.monotonic()))
            if isinstance(message, kind):
                return message
            if not isinstance(message, GameEventMessage):
                raise AssertionError(f"waiting for {kind.__name__}, got {message!r}")
            self.events += 1

    def authenticate(self, token: str) -> None:
        self.send(protocol.Token(token=token))
        self.user_id = self.expect(protocol.Authenticated).user_id

    def replies_to(self, data: str | bytes, timeout: float = 5.0) -> list[protocol.ServerMessage]:
        """Send one frame, then a ClockSyncRequest probe; return every message that
        arrives before the probe's answer except game events and other members' chat
        (the frame's replies, in order)."""
        self.send_raw(data)
        sentinel = next(_sentinels)
        self.send(protocol.ClockSyncRequest(client_time=sentinel))
        replies: list[protocol.ServerMessage] = []
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(max(0.01, deadline - time.monotonic()))
            if isinstance(message, protocol.ClockSyncResponse) and message.client_time == sentinel:
                return replies
            if isinstance(message, GameEventMessage):
                self.events += 1
            elif not self._is_others_chat(message):
                replies.append(message)

    def _is_others_chat(self, message: protocol.ServerMessage) -> bool:
        """Chat relayed from another member of the game: background, not a reply."""
        return isinstance(message, protocol.ChatMessage) and message.user_id != self.user_id

    def wait_closed(self, timeout: float = 5.0) -> tuple[int | None, str, list[protocol.ServerMessage]]:
        """Read until the server closes; the close code, reason, and what came before."""
        seen: list[protocol.ServerMessage] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                seen.append(self.recv(max(0.01, deadline - time.monotonic())))
            except Closed as closed:
                return closed.code, closed.reason, seen
