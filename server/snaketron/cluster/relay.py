"""The relaying side: one client's game traffic to and from the server hosting its game.

A `RelayLink` is one WebSocket from this server to the host's relay endpoint (see
`peers.py`), opened for one client session. Client frames go to the host verbatim
and in order (the session's receive loop awaits each send); host frames come back
verbatim and in order (one pump task writes them to the client's outbox). The link
only peeks at what passes, to know:

- which game the client is in, and whether it entered it (the host sends a Snapshot
  whenever a member attaches) and whether it is over (StatusUpdated Complete);
- the last tick and sequence seen, so that if the host dies the client can be told
  the game is over with the next sequence number (`game_over_frame`);
- the host's answer to the message that opened the link (joined, created, or refused).

The host's `ServerShutdown`/`Shutdown` are not passed on: the client's own server is
not going away; what matters to the client (the game's end) arrives as game events,
or is synthesised here when the host can no longer send it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from snaketron import protocol
from snaketron.cluster.peers import PeerIdentity, relay_headers
from snaketron.db.models import ServerRecord
from snaketron.engine.types import GameEvent, GameEventMessage, StatusUpdated, status_complete
from snaketron.logs import get_logger
from snaketron.sessions import ClientSession
from snaketron.tasks import BackgroundTasks

log = get_logger(__name__)

_EVENT_PREFIX = b'{"GameEvent":'


class _EventHead(msgspec.Struct):
    """The part of a game event the relay reads; the rest stays raw (not decoded)."""

    game_id: int
    tick: int
    sequence: int
    event: msgspec.Raw


class _EventFrame(msgspec.Struct):
    GameEvent: _EventHead


class _StateHead(msgspec.Struct):
    status: msgspec.Raw


class _SnapshotHead(msgspec.Struct):
    game_state: _StateHead


class _SnapshotEvent(msgspec.Struct):
    Snapshot: _SnapshotHead


_event_frame = msgspec.json.Decoder(_EventFrame)
_snapshot_event = msgspec.json.Decoder(_SnapshotEvent)
_status_updated = msgspec.json.Decoder(dict[str, StatusUpdated])


def _says_complete(event: msgspec.Raw) -> bool:
    """Does this raw GameEvent end the game (StatusUpdated Complete, or a Snapshot of a
    finished game)? Only those two kinds are decoded further."""
    raw = bytes(event)
    if raw.startswith(b'{"StatusUpdated"'):
        status = _status_updated.decode(raw)["StatusUpdated"].status
        return status != "Stopped" and status.Complete is not None
    if raw.startswith(b'{"Snapshot"'):
        return b'"Complete"' in bytes(_snapshot_event.decode(raw).Snapshot.game_state.status)
    return False


class RelayLink:
    """One relayed client session and its connection to the game's host."""

    def __init__(
        self,
        session: ClientSession,
        host: ServerRecord,
        *,
        secret: str,
        tasks: BackgroundTasks,
        on_closed: Callable[[RelayLink], None],
        on_complete: Callable[[RelayLink], None] = lambda _: None,
        game_id: int | None = None,
    ) -> None:
        self.session = session
        self.host = host
        self.game_id = game_id
        self.entered = False  # the host attached the client to the game (a Snapshot came)
        self.complete = False
        self.last_tick = 0
        self.last_sequence = 0
        self.ended = False  # closed by this side on purpose
        self.lost = False  # the host went away while the game was on; waiting for a verdict
        self.rejoining = False  # a rejoin attempt is under way
        self.close_code: int | None = None
        self.close_reason = ""
        self._secret = secret
        self._tasks = tasks
        self._on_closed = on_closed
        self._on_complete = on_complete
        self._connection: ClientConnection | None = None
        self._answer: asyncio.Future[bool] | None = None

    # --- opening ---------------------------------------------------------------------------
    async def open(self, timeout_s: float) -> bool:
        """Connect to the host; False when it cannot be reached."""
        identity = PeerIdentity(self.session.user_id, self.session.username)
        try:
            self._connection = await connect(
                self.host.internal_url,
                additional_headers=relay_headers(self._secret, identity),
                compression=None,
                proxy=None,
                open_timeout=timeout_s,
                max_size=None,  # a trusted peer: the host's frames are the host's business
            )
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            log.warning("relay to host failed", host=self.host.server_id, url=self.host.internal_url, error=repr(exc))
            return False
        self._tasks.spawn(self._pump(), "relay pump")
        return True

    async def enter(self, frame: str | bytes, timeout_s: float) -> bool | None:
        """Send the message that needs the host (join, spectate, create) and wait for its
        answer, which the client receives as it is. True: the relay goes on; False: the host
        refused or went away; None: no answer in time."""
        self._answer = asyncio.get_running_loop().create_future()
        if not await self.forward(frame):
            return False
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), timeout_s)
        except TimeoutError:
            return None

    # --- traffic ------------------------------------------------------------------------------
    async def forward(self, frame: str | bytes) -> bool:
        """One client frame to the host, in order. False when the link is down."""
        if self._connection is None:
            return False
        try:
            await self._connection.send(frame)
        except ConnectionClosed:
            return False
        return True

    async def _pump(self) -> None:
        assert self._connection is not None
        try:
            while True:
                self._deliver(await self._connection.recv(decode=False))
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self._connection.close_code
            self.close_reason = self._connection.close_reason or ""
            self._answered(False)
            self._on_closed(self)

    def _deliver(self, frame: bytes) -> None:
        try:
            keep = self._peek(frame)
        except (msgspec.DecodeError, protocol.ProtocolError):
            keep = True  # not ours to judge: the client gets what the host sent
        if keep:
            self.session.outbox.send(frame)

    def _peek(self, frame: bytes) -> bool:
        """Learn from one host frame; False when the client must not get it."""
        if frame.startswith(_EVENT_PREFIX):
            head = _event_frame.decode(frame).GameEvent
            if self.game_id is None or head.game_id == self.game_id:
                self.game_id = head.game_id
                self.entered = True
                self.last_tick = max(self.last_tick, head.tick)
                self.last_sequence = max(self.last_sequence, head.sequence)
                if _says_complete(head.event):
                    self.complete = True
                    self._on_complete(self)
            self._answered(True)
        else:
            message: Any = protocol.decode_server_message(frame)
            if isinstance(message, (protocol.ServerShutdown, protocol.Shutdown)):
                return False  # about the host, not about the client's own server
            if isinstance(message, (protocol.CustomGameCreated, protocol.CustomGameJoined)):
                self.game_id = message.game_id
            elif isinstance(message, protocol.SoloGameCreated):
                self.game_id = message.game_id
                self._answered(True)  # created; the client's JoinGame follows on this link
            elif isinstance(message, (protocol.AccessDenied, protocol.Error)):
                self._answered(False)
        return True

    def _answered(self, ok: bool) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(ok)

    # --- ending ---------------------------------------------------------------------------------
    def close(self) -> None:
        """End the relay from this side (the client left, went elsewhere or went away).
        Frames already forwarded reach the host before the close does."""
        self.ended = True
        if self._connection is not None:
            self._tasks.spawn(self._connection.close(1000, "relay ended"), "close relay")

    def game_over_frame(self) -> bytes:
        """`StatusUpdated Complete` with no winner, next in the game's sequence: what the
        client is told when its game's host died and the game can no longer end there."""
        event = GameEventMessage(
            game_id=self.game_id or 0,
            tick=self.last_tick,
            sequence=self.last_sequence + 1,
            user_id=None,
            event=GameEvent(StatusUpdated=StatusUpdated(status=status_complete(None))),
        )
        return protocol.encode_game_event(event)
