"""The server's WebSocket connection: websockets' own, plus a synchronous way in for
the messages that need no waiting.

websockets hands every frame to the connection's handler task through a queue:
the frame is queued in `data_received`, the task wakes on the next loop
iteration, reassembles and decodes the message, and only then does the server
look at it. For a game command (most of what players send in a running game)
nothing in its handling awaits, so that round trip through the queue and the
task is pure overhead: a `GameServerConnection` offers each whole text frame to
`take_now` first, still inside `data_received`, and queues it as usual only when
`take_now` declines. Order is kept because `take_now` declines whenever a frame
is already queued, and the server's hook declines while its handler task is
busy with an earlier message.

Pings and Pongs from the client are reported to `on_control_frame`, so that they
count against the connection's message budget like any other frame.
"""

from __future__ import annotations

from collections.abc import Callable

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from snaketron.logs import get_logger

log = get_logger(__name__)

_CONTROL_FROM_CLIENT = (Opcode.PING, Opcode.PONG)  # a Close ends the connection anyway


class GameServerConnection(ServerConnection):
    # Called with a whole text frame's payload; True: it was handled, do not queue it.
    take_now: Callable[[bytes], bool] | None = None
    # Called for each Ping and Pong the client sends. websockets answers a Ping by itself,
    # below any message budget: without this a client could make the server parse and
    # answer pings as fast as it can send them.
    on_control_frame: Callable[[], None] | None = None

    def process_event(self, event: Event) -> None:
        if type(event) is Frame and event.opcode in _CONTROL_FROM_CLIENT and self.on_control_frame is not None:
            self.on_control_frame()
        take_now = self.take_now
        if (
            take_now is not None
            and type(event) is Frame
            and event.opcode is Opcode.TEXT
            and event.fin
            and isinstance(event.data, bytes)  # always, from websockets' reader (test_websockets_contract.py)
            and not self.recv_messages.frames  # nothing queued ahead of it
        ):
            try:
                if take_now(event.data):
                    return
            except Exception:  # never let a handler bug break the connection's reader
                log.exception("handling a frame in place failed")
                return
        super().process_event(event)
