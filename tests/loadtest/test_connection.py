"""The load generator's lean WebSocket connection against a real websockets server on
127.0.0.1: messages in order (fragmented ones put together), sends, the server's
pings answered, both closing handshakes, and the error kinds a report counts."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Response

from snaketron.loadtest.bot import error_kind
from snaketron.loadtest.connection import LeanConnection


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.arrived = asyncio.Event()
        self.closed = asyncio.Event()

    def on_message(self, message: bytes) -> None:
        self.messages.append(message)
        self.arrived.set()

    def on_closed(self) -> None:
        self.closed.set()

    async def wait_for(self, count: int) -> list[bytes]:
        async with asyncio.timeout(5):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.messages


async def start(handler, **options):
    server = await serve(handler, "127.0.0.1", 0, compression=None, **options)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/"


async def test_messages_arrive_in_order_and_sends_reach_the_server():
    received: asyncio.Queue[str] = asyncio.Queue()

    async def handler(ws):
        await ws.send("one")
        await ws.send(b"two")
        await ws.send(["thr", "ee"])  # a fragmented message
        received.put_nowait(await ws.recv())
        await ws.send("after")
        await ws.wait_closed()

    server, url = await start(handler)
    inbox = Inbox()
    try:
        connection = await LeanConnection.open(url, inbox.on_message, inbox.on_closed)
        assert await inbox.wait_for(3) == [b"one", b"two", b"three"]
        connection.send_text(b'{"hello":1}')
        assert await asyncio.wait_for(received.get(), 5) == '{"hello":1}'
        assert (await inbox.wait_for(4))[3] == b"after"
        await connection.close()
        assert inbox.closed.is_set()
        assert not connection.is_open
    finally:
        server.close()


def test_it_runs_on_uvloop_as_the_load_generator_does():
    # uvloop's transports are not asyncio.Transport subclasses, and every loop may call
    # the protocol a little differently: the round trip once more, on uvloop.
    async def scenario() -> list[bytes]:
        async def echo(ws):
            async for message in ws:
                await ws.send(message)

        server, url = await start(echo)
        inbox = Inbox()
        try:
            connection = await LeanConnection.open(url, inbox.on_message, inbox.on_closed)
            for text in (b"a", b"b" * 70_000):
                connection.send_text(text)
            messages = await inbox.wait_for(2)
            await connection.close()
            assert inbox.closed.is_set()
            return messages
        finally:
            server.close()

    assert uvloop.run(scenario()) == [b"a", b"b" * 70_000]


async def test_the_servers_pings_are_answered():
    latencies: list[float] = []

    async def handler(ws):
        pong = await ws.ping()
        latencies.append(await asyncio.wait_for(pong, 5))
        await ws.send("ponged")
        await ws.wait_closed()

    server, url = await start(handler)
    inbox = Inbox()
    try:
        connection = await LeanConnection.open(url, inbox.on_message)
        assert await inbox.wait_for(1) == [b"ponged"]
        assert len(latencies) == 1
        await connection.close()
    finally:
        server.close()


async def test_a_close_by_the_server_is_counted_by_its_code():
    async def handler(ws):
        await ws.close(4001, "go away")

    server, url = await start(handler)
    inbox = Inbox()
    try:
        connection = await LeanConnection.open(url, inbox.on_message, inbox.on_closed)
        await asyncio.wait_for(inbox.closed.wait(), 5)
        with pytest.raises(ConnectionClosed) as raised:
            connection.send_text(b"too late")
        assert error_kind(raised.value) == "closed:4001"
        assert raised.value.rcvd is not None and raised.value.rcvd.reason == "go away"
    finally:
        server.close()


async def test_a_refused_upgrade_and_a_closed_port_fail_to_connect():
    def refuse(connection, request):
        return Response(403, "Forbidden", Headers(), b"no")

    server, url = await start(lambda ws: ws.wait_closed(), process_request=refuse)
    try:
        with pytest.raises(InvalidStatus) as raised:
            await LeanConnection.open(url, lambda message: None)
        assert error_kind(raised.value) == "connect_failed"
    finally:
        server.close()
        await server.wait_closed()
    with pytest.raises(OSError) as refused:
        await LeanConnection.open(url, lambda message: None)
    assert error_kind(refused.value) == "connect_failed"


async def test_a_server_that_never_answers_times_out():
    async def silent(reader, writer):
        await reader.read()  # takes the handshake request and says nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimeoutError) as raised:
            await LeanConnection.open(f"ws://127.0.0.1:{port}/", lambda message: None, open_timeout=0.3)
        assert error_kind(raised.value) == "timeout"
    finally:
        server.close()
