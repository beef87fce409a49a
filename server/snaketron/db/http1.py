"""A small HTTP/1.1 client for the lean data plane: POSTs to one host, kept alive.

Why not aiohttp: its request and response machinery (client request and response
objects, header multidicts, stream readers, timers per read, the payload writer)
cost ~240 µs of CPU per DynamoDB request on this machine, against ~140 µs for the
whole request sent and parsed here (signing, JSON and system calls included).
DynamoDB's exchanges are the simplest HTTP there is: a POST with a body of known
length to "/", an answer with a Content-Length (chunked transfer encoding is read
too, for proxies in between that use it). Anything else (an HTTP proxy from the
environment) is left to the SDK: `lean.serves` says so.

A connection carries one exchange at a time; idle ones wait in a LIFO pool (the
most recently used is the likeliest still open) and are dropped after the same
keep-alive time as the SDK's. An exchange that fails or is cancelled closes its
connection, so a half-read answer never reaches the next request. Failures are
`OSError`s (`ConnectionResetError` for a connection closed mid-answer) and
`TimeoutError`s, which the data layer's retry policy treats as connection errors.
The read timeout bounds the whole answer (aiohttp's and the SDK's bound each read):
DynamoDB's answers are small, so the difference is a read stalled halfway, which
both treat as a failed attempt.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import cast
from urllib.parse import urlsplit

# aiobotocore's keep-alive: an idle pooled connection is closed after this long.
KEEPALIVE_S = 12.0


class IncompleteResponse(ConnectionResetError):
    """The connection ended before a whole answer arrived."""


def parse_response(buffer: bytearray, eof: bool) -> tuple[int, dict[str, str], bytes, int] | None:
    """(status, headers with lower-case names, body, bytes used) of the first whole
    answer in `buffer`, or None while it is incomplete. With no length given, the
    body ends at `eof`."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise IncompleteResponse(f"not an HTTP response: {lines[0][:80]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    start = end + 4
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        at = start
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(bytes(buffer[at:line_end]).split(b";")[0].strip() or b"0", 16)
            at = line_end + 2
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", at - 2)
                if trailer_end < 0:
                    return None
                return status, headers, bytes(body), trailer_end + 4
            if len(buffer) < at + size + 2:
                return None
            body += buffer[at : at + size]
            at += size + 2
    length = headers.get("content-length")
    if length is not None:
        stop = start + int(length)
        if len(buffer) < stop:
            return None
        return status, headers, bytes(buffer[start:stop]), stop
    if status in (204, 304) or 100 <= status < 200:
        return status, headers, b"", start
    if not eof:
        return None
    headers["connection"] = "close"
    return status, headers, bytes(buffer[start:]), len(buffer)


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.WriteTransport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are no subclass of asyncio's, so no isinstance).
        self.transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._try_complete()

    def eof_received(self) -> bool:
        self.eof = True
        self._try_complete()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self.eof = True
        self._try_complete()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc or IncompleteResponse("connection closed before the whole answer"))

    def _try_complete(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        try:
            parsed = parse_response(self.buffer, self.eof)
        except (ValueError, IncompleteResponse) as exc:
            waiter.set_exception(IncompleteResponse(str(exc)))
            return
        if parsed is None:
            if self.eof:
                waiter.set_exception(IncompleteResponse("connection closed before the whole answer"))
            return
        status, headers, body, used = parsed
        del self.buffer[:used]
        waiter.set_result((status, headers, body))

    def exchange(self, request: bytes) -> asyncio.Future[tuple[int, dict[str, str], bytes]]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter

    def usable(self, now: float) -> bool:
        return not self.closed and not self.eof and not self.buffer and now - self.idle_since < KEEPALIVE_S

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Http1Pool:
    """Kept-alive connections to the host of `url`, at most `max_connections` at once."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl_context if parts.scheme == "https" else None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._slots = asyncio.Semaphore(max(1, max_connections))
        self._idle: list[_Connection] = []
        self._closed = False

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._connect_timeout):
            _, connection = await loop.create_connection(
                _Connection,
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl is not None else None,
            )
        return connection

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return None

    async def post(self, head: bytes, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send `head` (request line and headers, ending in a blank line) and `body`;
        the answer's status, headers (lower-case names) and body."""
        if self._closed:
            raise ConnectionResetError("connection pool closed")
        async with self._slots:
            connection = self._reuse() or await self._connect()
            try:
                async with asyncio.timeout(self._read_timeout):
                    status, headers, answer = await connection.exchange(head + body)
            except BaseException:
                connection.close()  # a half-read answer must not reach the next request
                raise
            if headers.get("connection", "").lower() == "close" or connection.eof or self._closed:
                connection.close()
            else:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            return status, headers, answer

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


__all__ = ["Http1Pool", "IncompleteResponse", "parse_response"]
