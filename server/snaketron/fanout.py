"""Sending frames to clients without ever waiting for one of them.

Every frame a game produces is encoded once and the same bytes are pushed to
every recipient synchronously (websockets' `broadcast`, as text frames). A
recipient whose kernel and user-space send buffers already hold more than
`limit_bytes` cannot keep up: it is disconnected instead of slowing the others
or growing memory without bound.
"""

from __future__ import annotations

from collections.abc import Iterable

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import broadcast
from websockets.protocol import State

from snaketron.logs import get_logger
from snaketron.tasks import detached

log = get_logger(__name__)

# Close code and reason for a client that cannot keep up (RFC 6455 1008: policy).
SLOW_CLIENT_CLOSE = (1008, "too slow: send buffer full")


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

    def close(self, code: int, reason: str) -> None:
        """Close without waiting; the closing handshake runs in the background."""
        if self.closing:
            return
        self.closing = True
        detached.spawn(self.connection.close(code, reason), "close connection")


def send_to_all(outboxes: Iterable[Outbox], frame: bytes) -> int:
    """Push one already-encoded frame to every open outbox; returns how many took it."""
    ready = []
    for outbox in outboxes:
        if not outbox.is_open:
            continue
        if outbox.buffered_bytes() > outbox.limit_bytes:
            log.warning("disconnecting slow client", buffered=outbox.buffered_bytes())
            outbox.close(*SLOW_CLIENT_CLOSE)
            continue
        ready.append(outbox.connection)
    if ready:
        broadcast(ready, frame, text=True)
    return len(ready)
