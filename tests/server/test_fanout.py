"""The fan-out sends a tick's frames in one write per recipient: each must still arrive
as its own WebSocket message, in order, on plain and on compressed connections."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from snaketron.fanout import Outbox, send_to_all

FRAMES = (b'{"GameEvent":1}', b'{"GameEvent":"' + b"y" * 70_000 + b'"}', b'{"GameEvent":3}')


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_frames_sent_together_arrive_as_separate_messages_in_order(compression):
    sent_to: list[int] = []

    async def handler(connection: ServerConnection) -> None:
        outbox = Outbox(connection, limit_bytes=1 << 20)
        sent_to.append(send_to_all([outbox], *FRAMES))
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=compression) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=compression, max_size=None) as client:
            received = [await asyncio.wait_for(client.recv(decode=False), 5) for _ in FRAMES]
            assert bool(client.protocol.extensions) == (compression is not None)
    assert received == list(FRAMES)
    assert sent_to == [1]
