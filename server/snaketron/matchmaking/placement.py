"""Where a formed match is played: the one decision a cluster changes.

The matcher calls `MatchPlacement.place(match, game_id)` once the match's tickets
are claimed. `LocalPlacement` hosts the game on this server (the matcher's own),
which is right for a single process; a cluster puts the least loaded live
server of the region behind the same interface. Whoever hosts the game records
it (GameRecorder writes the game item with its `serverId`), which is all another
server needs to find it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from snaketron.db.models import MatchTicket
from snaketron.engine import GameType
from snaketron.games import wall_clock_ms
from snaketron.matchmaking.forming import FormedMatch
from snaketron.rooms.room import Room


class PlayersGone(Exception):
    """Some matched players left the queue (or disconnected) while their tickets were
    being claimed: no game; the others' tickets go back to the queue."""

    def __init__(self, user_ids: set[int]) -> None:
        super().__init__(f"players {sorted(user_ids)} are no longer queued")
        self.user_ids = user_ids


class MatchPlacement(Protocol):
    async def place(self, match: FormedMatch, game_id: int) -> None:
        """Create and start the game of a claimed match (tick 0 after the start delay),
        and tell this server's matched players. Raise PlayersGone, or anything else to
        give every ticket back."""


Deliver = Callable[[MatchTicket, int], None]
IsWaiting = Callable[[MatchTicket], bool]


class PlacementRooms(Protocol):
    """What placing a match needs of the rooms (`games.Rooms`)."""

    server_id: int

    def open_match(self, game_id: int, game_type: GameType, tickets: Sequence[MatchTicket], start_ms: int) -> Room: ...


class MatchSeats(Protocol):
    """Who sits in which matched room here (one seat at a time, see MatchmakingService)."""

    def seated(self, game_id: int, tickets: Sequence[MatchTicket]) -> None: ...


class LocalPlacement:
    """Host matched games on this server."""

    def __init__(
        self,
        rooms: PlacementRooms,
        seats: MatchSeats,
        deliver: Deliver,
        is_waiting: IsWaiting,
        *,
        start_delay_ms: int,
        clock_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self._rooms = rooms
        self._seats = seats
        self._deliver = deliver
        self._is_waiting = is_waiting
        self._start_delay_ms = start_delay_ms
        self._clock_ms = clock_ms

    async def place(self, match: FormedMatch, game_id: int) -> None:
        # No await in here: between the claim and MatchFound the game must already
        # exist, or a client's JoinGame could arrive before it.
        rooms = self._rooms
        # A withdrawal can race the claim; this server knows its own players for sure.
        gone = {t.user_id for t in match.tickets if t.server_id == rooms.server_id and not self._is_waiting(t)}
        if gone:
            raise PlayersGone(gone)
        self._seats.seated(game_id, match.tickets)
        rooms.open_match(game_id, match.rule.game_type, match.tickets, self._clock_ms() + self._start_delay_ms)
        for ticket in match.tickets:
            if ticket.server_id == rooms.server_id:
                self._deliver(ticket, game_id)
