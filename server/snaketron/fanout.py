"""Sending frames to clients without ever waiting for one of them.

Every frame a game produces is encoded once and the same bytes are pushed to
every recipient synchronously. A server's WebSocket frame is the same for every
connection that negotiated no extension (no mask, no compression), so the frame
header is built once too and the finished frame is written to each transport.
The frames of one tick go out together: one write (one send system call) per
recipient carries them all, each still its own WebSocket message, in order;
a connection in any other state (an extension, a message half sent) gets the
frames through websockets as usual. A recipient whose kernel and user-space send
buffers already hold more than `limit_bytes` cannot keep up: it is disconnected
instead of slowing the others or growing memory without bound.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from websockets.asyncio.connection import Connection
from websockets.protocol import SERVER, State

from snaketron.logs import get_logger
from snaketron.tasks import detached

log = get_logger(__name__)

# Close code and reason for a client that cannot keep up (RFC 6455 1008: policy).
SLOW_CLIENT_CLOSE = (1008, "too slow: send buffer full")

# RFC 6455 5.2: FIN set, opcode 1 (text); a server's frames are never masked, so the
# second byte is the length alone, or 126 / 127 announcing a 16 / 64-bit length.
_FIN_TEXT = 0x81
_LENGTH_16 = struct.Struct("!BBH").pack
_LENGTH_64 = struct.Struct("!BBQ").pack


class Outbox:
    """The send side of one client connection."""

    __slots__ = ("closing", "connection", "limit_bytes")

    def __init__(self, connection: Connection, limit_bytes: int) -> None:
        self.connection = connection
        self.limit_bytes = limit_bytes
        self.closing = False

    @property
    def is_open(self) -> bool:
        return not self.closing and self.connection.protocol.state is State.OPEN

    def buffered_bytes(self) -> int:
        transport = self.connection.transport
        return transport.get_write_buffer_size() if transport is not None else 0

    def send(self, frame: bytes) -> bool:
        """Queue one JSON text frame. False when the client is gone or too slow."""
        return send_to_all((self,), frame) == 1

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake (a client that goes on
        flooding after it was closed)."""
        self.closing = True
        transport = self.connection.transport
        if transport is not None:
            transport.abort()

    def close(self, code: int, reason: str) -> None:
        """Close without waiting; the closing handshake runs in the background."""
        if self.closing:
            return
        self.closing = True
        detached.spawn(self.connection.close(code, reason), "close connection")


def send_to_all(outboxes: Iterable[Outbox], *frames: bytes) -> int:
    """Push already-encoded JSON text messages, in order, to every open outbox; returns
    how many outboxes took them."""
    wire: bytes | None = None  # the WebSocket frames, built at most once
    sent = 0
    for outbox in outboxes:
        connection = outbox.connection
        protocol = connection.protocol
        if outbox.closing or protocol.state is not State.OPEN:
            continue
        transport = connection.transport
        if transport.get_write_buffer_size() > outbox.limit_bytes:
            log.warning("disconnecting slow client", buffered=transport.get_write_buffer_size())
            outbox.close(*SLOW_CLIENT_CLOSE)
            continue
        try:
            if _plain(connection):
                if wire is None:
                    wire = text_frames(frames)
                transport.write(wire)
            else:
                for frame in frames:
                    protocol.send_text(frame)
                connection.send_data()
        except Exception as exc:  # one broken connection must not stop the others
            log.warning("send failed", error=repr(exc))
            continue
        sent += 1
    return sent


def text_frames(payloads: tuple[bytes, ...]) -> bytes:
    """The wire bytes of a server's unfragmented text messages with no extension, one
    frame each, in order: what websockets' `Frame.serialize(mask=False)` writes for each,
    built without its per-frame objects (test_websockets_contract.py checks they agree)."""
    if len(payloads) == 1:  # most ticks and every command answer: one message
        payload = payloads[0]
        return _text_header(len(payload)) + payload
    parts: list[bytes] = []
    for payload in payloads:
        parts.append(_text_header(len(payload)))
        parts.append(payload)
    return b"".join(parts)


def _text_header(length: int) -> bytes:
    if length < 126:
        return bytes((_FIN_TEXT, length))
    if length < 65536:
        return _LENGTH_16(_FIN_TEXT, 126, length)
    return _LENGTH_64(_FIN_TEXT, 127, length)


def _plain(connection: Connection) -> bool:
    """Whether a server frame for this connection is the shared one, and nothing of an
    earlier message is still waiting in websockets' own buffer (order is kept)."""
    protocol = connection.protocol
    return (
        protocol.side is SERVER
        and not protocol.extensions
        and not protocol.writes
        and not protocol.expect_continuation_frame
        and connection.send_in_progress is None
    )
