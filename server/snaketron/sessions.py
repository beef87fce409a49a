"""One client connection: who it is, what state it is in, and its budgets."""

from __future__ import annotations

import collections
import enum
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from snaketron import protocol
from snaketron.fanout import Outbox
from snaketron.ratelimit import TokenBucket
from snaketron.rating import RatingCopy

if TYPE_CHECKING:
    from snaketron.rooms.room import Role, Room


class ConnectionState(enum.Enum):
    """The server-side states of PROTOCOL.md, "Connection states"."""

    UNAUTHENTICATED = "Unauthenticated"
    AUTHENTICATED = "Authenticated"
    IN_GAME = "InGame"

    # Members are singletons compared by identity: the identity hash (in C) is
    # equivalent to Enum's, which hashes the name in Python; a metrics scrape counts
    # every connection's state.
    __hash__ = object.__hash__


_session_ids = itertools.count(1)


@dataclass
class MessageStats:
    """What the WebSocket server received and refused; read when metrics are scraped."""

    commands: int = 0  # GameCommands that reached their game
    commands_rejected: int = 0  # ...and were refused by it (not a player, rules)
    refused: collections.Counter[str] = field(default_factory=collections.Counter)  # frames, by error code
    connections_refused: int = 0  # over the per-address connection cap


class ClientSession:
    """A connected client. Hashable by identity, so it can be a game member."""

    __slots__ = (
        "address",
        "bucket",
        "busy",
        "errors",
        "id",
        "outbox",
        "rating",
        "role",
        "room",
        "user_id",
        "username",
    )

    def __init__(self, outbox: Outbox, address: str, bucket: TokenBucket) -> None:
        self.id = next(_session_ids)
        self.outbox = outbox
        self.address = address
        self.bucket = bucket
        self.errors = 0
        # The connection's handler task is inside a message (maybe awaiting): frames
        # that arrive meanwhile must wait their turn in the queue (see ws_connection).
        self.busy = False
        self.user_id = 0
        self.username = ""
        # The rating its sign-in read (None: not read here, e.g. a peer's relayed player):
        # queueing carries it on the ticket instead of reading the user item again.
        self.rating: RatingCopy | None = None
        self.room: Room | None = None  # the room it is a member of
        self.role: Role | None = None

    @property
    def state(self) -> ConnectionState:
        if not self.username:
            return ConnectionState.UNAUTHENTICATED
        if self.room is None:
            return ConnectionState.AUTHENTICATED
        return ConnectionState.IN_GAME

    def send(self, message: protocol.ServerMessage) -> bool:
        return self.outbox.send(protocol.encode_server_message(message))

    def deny(self, reason: str) -> None:
        self.send(protocol.AccessDenied(reason=reason))

    def error(self, code: str, message: str) -> None:
        self.send(protocol.Error(code=code, message=message))

    # What matchmaking tells a queued player (its `QueuedPlayer`), as frames.
    def match_found(self, game_id: int) -> None:
        self.send(protocol.MatchFound(game_id=game_id))

    def queue_update(self, position: int, estimated_wait_seconds: int) -> None:
        self.send(protocol.QueueUpdate(position=position, estimated_wait_seconds=estimated_wait_seconds))

    def __repr__(self) -> str:
        return f"<ClientSession {self.id} user={self.user_id} state={self.state.value}>"
