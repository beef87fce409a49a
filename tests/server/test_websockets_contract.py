"""The websockets internals the server's fast path relies on, each checked for its shape
and behaviour, so that an upgrade of websockets fails here instead of silently
reordering or dropping frames.

What relies on what:
- `ws_connection.GameServerConnection` overrides `Connection.process_event(event)`,
  which websockets calls from `data_received` for every frame, and looks at
  `recv_messages.frames` (empty: nothing queued ahead of a frame).
- `fanout.send_to_all` writes hand-built frames (`fanout.text_frames`, the bytes
  `Frame.serialize` and `protocol.send_text` give) to the transport
  when `_plain` says the connection is a server's with no extension, nothing in
  `protocol.writes`, no fragmented message open (`protocol.expect_continuation_frame`)
  and no send in progress (`connection.send_in_progress`); otherwise it goes through
  `protocol.send_text` and `connection.send_data()`.
"""

from __future__ import annotations

import asyncio
import inspect
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version
from websockets.asyncio.client import connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection, serve
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN, SERVER, Event, State
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from snaketron.fanout import Outbox, _plain, send_to_all, text_frames
from snaketron.ws_connection import GameServerConnection

ROOT = Path(__file__).resolve().parents[2]
# Payload sizes on each side of the three frame length encodings (7 bits, 16 bits, 64 bits).
PAYLOAD_SIZES = (0, 1, 125, 126, 65_535, 65_536, 70_000)


def test_installed_websockets_is_inside_the_pinned_range_with_an_upper_bound():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (requirement,) = [Requirement(d) for d in dependencies if Requirement(d).name == "websockets"]
    upper = [spec for spec in requirement.specifier if spec.operator == "<"]
    assert upper, "websockets must be pinned below its next major version"
    assert Version(upper[0].version).release[1:] in ((), (0,), (0, 0)), "the bound is a major version"
    assert requirement.specifier.contains(websockets.__version__), (websockets.__version__, str(requirement))


def test_process_event_is_the_per_event_hook_with_the_expected_signature():
    parameters = list(inspect.signature(Connection.process_event).parameters)
    assert parameters == ["self", "event"]
    assert ServerConnection.process_event is not Connection.process_event  # the handshake override
    # That data_received calls it for every frame is checked on the wire below.
    assert inspect.get_annotations(Connection.process_event, eval_str=True)["event"] == Event


def _server_frame(payload: bytes) -> bytes:
    """The frame websockets itself would write for a server's text message."""
    protocol = ServerProtocol(state=OPEN)
    protocol.send_text(payload)
    return b"".join(protocol.data_to_send())


@pytest.mark.parametrize("size", PAYLOAD_SIZES)
def test_a_hand_built_frame_is_the_frame_websockets_builds(size):
    payload = b"x" * size
    assert text_frames((payload,)) == _server_frame(payload)
    assert Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[]) == _server_frame(payload)


# Lengths around each encoding's bounds, and anything in between.
_LENGTHS = st.one_of(st.sampled_from(PAYLOAD_SIZES), st.integers(0, 70_000))


@given(st.lists(_LENGTHS, min_size=1, max_size=4), st.binary(min_size=1, max_size=1))
def test_hand_built_frames_are_websockets_frames_one_after_another(lengths, byte):
    payloads = tuple(byte * n for n in lengths)
    assert text_frames(payloads) == b"".join(_server_frame(p) for p in payloads)


def test_hand_built_frames_written_together_parse_as_separate_messages_in_order():
    payloads = [b'{"GameEvent":%d}' % i + b"y" * size for i, size in enumerate(PAYLOAD_SIZES)]
    wire = text_frames(tuple(payloads))
    reader = ClientProtocol(parse_uri("ws://127.0.0.1/"), state=OPEN)
    reader.receive_data(wire)
    events = reader.events_received()
    assert [(type(e), e.opcode, e.fin, e.data) for e in events] == [(Frame, Opcode.TEXT, True, p) for p in payloads]


def test_protocol_state_fanout_reads_has_its_shape():
    protocol = ServerProtocol(state=OPEN)
    assert protocol.side is SERVER and protocol.state is State.OPEN
    assert protocol.extensions == []
    assert protocol.writes == [] and protocol.expect_continuation_frame is False
    # What is sent through websockets waits in `writes` until data_to_send takes it.
    protocol.send_text(b"queued")
    assert protocol.writes and protocol.data_to_send() and protocol.writes == []
    # A fragmented message keeps the continuation flag up until its last frame.
    protocol.send_text(b"part", fin=False)
    assert protocol.expect_continuation_frame is True
    protocol.send_continuation(b"end", fin=True)
    assert protocol.expect_continuation_frame is False


def _serve(handler):
    return serve(handler, "127.0.0.1", 0, create_connection=GameServerConnection, compression=None)


async def test_frames_reach_take_now_as_bytes_and_a_queued_frame_keeps_the_rest_in_order():
    offered: list[object] = []
    read: list[str] = []
    may_read = asyncio.Event()
    all_read = asyncio.Event()
    checks: list[object] = []

    def take_now(data: bytes) -> bool:
        offered.append(data)
        return data.startswith(b"fast")

    async def handler(connection: ServerConnection) -> None:
        assert isinstance(connection, GameServerConnection)
        checks.append(not connection.recv_messages.frames)  # nothing queued: falsy
        connection.take_now = take_now
        await may_read.wait()
        checks.append(not connection.recv_messages.frames)  # three frames queued: truthy
        read.extend([await connection.recv() for _ in range(3)])
        all_read.set()

    async with _serve(handler) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            await client.send("fast-0")
            await (await client.ping())  # the pong follows the server's handling of fast-0
            assert offered == [b"fast-0"]
            # slow-1 is declined and queued; fast-2 and fast-3 must queue behind it.
            for text in ("slow-1", "fast-2", "fast-3"):
                await client.send(text)
            await (await client.ping())
            assert offered == [b"fast-0", b"slow-1"]
            assert all(type(data) is bytes for data in offered)
            may_read.set()
            await asyncio.wait_for(all_read.wait(), 5)
    assert checks == [True, False]
    assert read == ["slow-1", "fast-2", "fast-3"]


async def test_connection_state_the_fanout_reads_and_its_plain_frame_on_the_wire():
    seen: list[tuple[str, object]] = []
    release = asyncio.Event()
    first_sent = asyncio.Event()

    async def fragments() -> AsyncIterator[str]:
        yield "first part, "
        first_sent.set()  # websockets asks for the next fragment once the first is out
        await release.wait()
        yield "last part"

    async def handler(connection: ServerConnection) -> None:
        protocol = connection.protocol
        seen.append(("idle", (connection.send_in_progress, list(protocol.writes), _plain(connection))))
        sending = asyncio.ensure_future(connection.send(fragments()))
        await asyncio.wait_for(first_sent.wait(), 5)
        assert protocol.expect_continuation_frame is True
        # A fragmented message is half sent: the shared frame must not go out now.
        seen.append(("fragmenting", (connection.send_in_progress is not None, _plain(connection))))
        release.set()
        await sending
        seen.append(("after", (connection.send_in_progress, _plain(connection))))
        outbox = Outbox(connection, limit_bytes=1 << 20)
        assert connection.transport.get_write_buffer_size() >= 0
        seen.append(("sent", send_to_all([outbox], b'{"GameEvent":1}', b'{"GameEvent":2}')))
        await connection.wait_closed()

    async with _serve(handler) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            received = [await asyncio.wait_for(client.recv(), 5) for _ in range(3)]
    assert seen == [
        ("idle", (None, [], True)),
        ("fragmenting", (True, False)),
        ("after", (None, True)),
        ("sent", 1),
    ]
    assert received == ["first part, last part", '{"GameEvent":1}', '{"GameEvent":2}']
