"""A lean WebSocket client connection, for thousands of them in one process.

websockets' asyncio client hands every message to a reader task through its
Assembler and futures: one task wake-up, a few futures and a lock per frame.
With thousands of connections in a load generator that machinery costs more CPU
than the bots. This connection keeps websockets' sans-I/O `ClientProtocol` (the
opening handshake, framing, ping replies and the closing handshake are
websockets' own) under a plain asyncio Protocol, and:

- hands every data message to `on_message` synchronously from data_received,
  as bytes (the caller decodes; nothing is queued);
- sends a text frame straight to the transport (`send_text`): one sender per
  connection on one event loop needs no send lock;
- sends no keepalive pings of its own (the server's pings are answered by the
  protocol); every wait of a bot is bounded anyway.

The bare broadcast ceiling's clients (benchmarks/bench_broadcast_ceiling.py)
receive with this very class, so the ceiling and the game server's capacity are
measured with the same client code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, ConnectionClosedError
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

# After a close frame went out, how long the server has to close the TCP connection.
CLOSE_TIMEOUT_S = 5.0


class LeanConnection(asyncio.Protocol):
    """One client WebSocket. Open it with `LeanConnection.open(...)`."""

    def __init__(
        self, protocol: ClientProtocol, on_message: Callable[[bytes], None], on_closed: Callable[[], None] | None
    ) -> None:
        self.protocol = protocol
        self.on_message = on_message
        self.on_closed = on_closed
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._fragments: list[bytes] | None = None  # a fragmented message being put together
        self._abort_handle: asyncio.TimerHandle | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        on_message: Callable[[bytes], None],
        on_closed: Callable[[], None] | None = None,
        *,
        open_timeout: float = 10.0,
        local_addr: tuple[str, int] | None = None,
    ) -> LeanConnection:
        """Connect (from `local_addr` when given) and complete the opening handshake (no compression).

        Raises what websockets' `connect` raises: OSError when the TCP connection
        fails, an InvalidHandshake subclass when the server refuses the upgrade,
        TimeoutError after `open_timeout`."""
        uri = parse_uri(url)
        if uri.secure:
            raise ValueError("the lean connection speaks ws:// only (load tests stay on 127.0.0.1)")
        loop = asyncio.get_running_loop()
        connection = cls(ClientProtocol(uri), on_message, on_closed)
        try:
            async with asyncio.timeout(open_timeout):
                await loop.create_connection(lambda: connection, uri.host, uri.port, local_addr=local_addr)
                connection._write(connection.protocol.send_request, connection.protocol.connect())
                await asyncio.wait([connection.opened, connection.closed], return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            connection.abort()
            raise
        handshake_exc = connection.protocol.handshake_exc
        if handshake_exc is not None:
            connection.abort()
            raise handshake_exc
        if not connection.opened.done():
            raise ConnectionClosedError(None, None)
        return connection

    # --- sending --------------------------------------------------------------------------
    def send_text(self, data: bytes) -> None:
        """One text frame of UTF-8 `data`; raises ConnectionClosed once the connection is closing."""
        protocol = self.protocol
        if protocol.state is not State.OPEN or self.transport is None:
            raise self.closed_exc
        protocol.send_text(data)
        for chunk in protocol.data_to_send():
            self.transport.write(chunk)

    async def close(self, code: int = 1000, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """The closing handshake; the TCP connection is aborted if the server does not end it in time."""
        if self.protocol.state is State.OPEN and self.transport is not None:
            self._write(self.protocol.send_close, code)
        if not self.closed.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.closed), timeout)
            except TimeoutError:
                self.abort()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    @property
    def is_open(self) -> bool:
        return self.protocol.state is State.OPEN

    @property
    def closed_exc(self) -> ConnectionClosed:
        """What a closed (or closing) connection raises: the close frames seen so far."""
        protocol = self.protocol
        if protocol.state is State.CLOSED:
            return protocol.close_exc
        return ConnectionClosedError(protocol.close_rcvd, protocol.close_sent, protocol.close_rcvd_then_sent)

    def _write(self, action: Callable, *args: object) -> None:
        action(*args)
        self._flush()

    def _flush(self) -> None:
        transport = self.transport
        for chunk in self.protocol.data_to_send():
            if transport is None:
                return
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                # The protocol's end of stream: half-close, as websockets does.
                try:
                    transport.write_eof()
                except Exception:  # uvloop raises RuntimeError on a closing transport
                    pass
            else:
                transport.close()

    # --- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        protocol.receive_data(data)
        events = protocol.events_received()
        self._flush()  # a pong, the reply to a close frame, or a failure's close frame
        for event in events:
            if type(event) is Frame:
                self._on_frame(event)
            elif type(event) is Response and not self.opened.done():
                self.opened.set_result(None)
        if self._abort_handle is None and protocol.close_expected():
            self._abort_handle = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, self.abort)

    def _on_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self.on_message(bytes(frame.data))
            else:
                self._fragments = [bytes(frame.data)]
        elif opcode is Opcode.CONT and self._fragments is not None:
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                message, self._fragments = b"".join(self._fragments), None
                self.on_message(message)

    def eof_received(self) -> None:
        self.protocol.receive_eof()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.receive_eof()  # idempotent: the state is CLOSED from here on
        self.transport = None
        if self._abort_handle is not None:
            self._abort_handle.cancel()
            self._abort_handle = None
        if not self.closed.done():
            self.closed.set_result(None)
        if self.on_closed is not None:
            self.on_closed()
