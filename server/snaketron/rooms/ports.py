"""What a room talks to, as structural types: the members it sends to and the
listeners it tells of every room's start, result and end.

They live apart from `room.py` so that the room can be compiled (`snaketron compile`):
mypyc makes a Protocol defined in a compiled module a trait, which the listeners, plain
Python classes elsewhere in the package, could then not subclass.
"""

from __future__ import annotations

from typing import Protocol

from snaketron.fanout import Outbox
from snaketron.rooms.result import GameResult, RoomKind


class Member(Protocol):
    """A connection that receives a room's events (player or spectator)."""

    user_id: int
    outbox: Outbox


class RoomListener(Protocol):
    """What a room tells those who follow every room of this process (ratings are part of
    the result; the recorder, lobbies, matchmaking, later leaderboards and replays).
    Each method receives values, never the room: subclass this Protocol to inherit the
    no-op defaults and implement only what you need."""

    def room_started(self, room_id: int, kind: RoomKind) -> None:
        return None

    def room_finished(self, result: GameResult) -> None:
        return None

    def room_disposed(self, room_id: int, game_code: str | None) -> None:
        return None
