"""Sending replays: each game's JSON encoded once and shared, written in slices that
wait for the client to read, with a bounded number being sent at once.

Why (RELIABILITY.md, "Attacks on leaderboards, profiles and replays"): a replay's
JSON is ~140 times its stored form (7.5 MB for a 15-minute game at 30 ms ticks),
and a whole-body response stays in the server's memory until the client reads it.
60 requests for one such replay that never read their answers grew the server by
880 MB. Now the body is encoded once into `EncodedReplays` (bounded, least recently
used first out) and every request writes slices of that one `bytes`: a client that
does not read holds at most a transport buffer, and is dropped when a slice waits
longer than the idle timeout.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping

from aiohttp import web

SLICE_BYTES = 64 * 1024


class EncodedReplays:
    """Encoded replay bodies by game id, at most `max_bytes` in all. Replays never
    change once stored, so a cached body is as good as a fresh one."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bodies: collections.OrderedDict[int, bytes] = collections.OrderedDict()
        self._size = 0

    def get(self, game_id: int) -> bytes | None:
        body = self._bodies.get(game_id)
        if body is not None:
            self._bodies.move_to_end(game_id)
        return body

    def put(self, game_id: int, body: bytes) -> None:
        if len(body) > self._max_bytes or game_id in self._bodies:
            return
        self._bodies[game_id] = body
        self._size += len(body)
        while self._size > self._max_bytes:
            _, dropped = self._bodies.popitem(last=False)
            self._size -= len(dropped)

    @property
    def size_bytes(self) -> int:
        return self._size


async def send_json_slices(
    request: web.Request, body: bytes, *, headers: Mapping[str, str], idle_timeout_s: float
) -> web.StreamResponse:
    """Answer 200 with `body` (JSON), written slice by slice. Each write waits until the
    client has taken enough of the previous ones (aiohttp drains past its buffer
    limit); a write that waits longer than `idle_timeout_s` ends the connection."""
    response = web.StreamResponse(status=200, headers={**headers, "Content-Type": "application/json"})
    response.content_length = len(body)
    await response.prepare(request)
    view = memoryview(body)
    for start in range(0, len(body), SLICE_BYTES):
        try:
            async with asyncio.timeout(idle_timeout_s):
                await response.write(view[start : start + SLICE_BYTES])
        except TimeoutError:
            if request.transport is not None:
                request.transport.abort()  # the client stopped reading: free its buffer now
            return response
    await response.write_eof()
    return response
