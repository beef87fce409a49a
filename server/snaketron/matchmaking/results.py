"""Which matched room seats whom on this server: one seat at a time.

Ratings are no longer kept here: a matched room rates its own result (see
`rooms.ratings`) and writes it with the game's record in one call. What
matchmaking still needs is the index "which running matched room here seats this
user", asked on every game a player creates or joins; it is filled when a match
is placed and emptied when the room's result is announced (a room listener).
"""

from __future__ import annotations

from collections.abc import Sequence

from snaketron.db.models import MatchTicket
from snaketron.rooms.ports import RoomListener
from snaketron.rooms.result import GameResult


class MatchSeatIndex(RoomListener):
    """user id -> the matched room here that seats them, while it runs."""

    def __init__(self) -> None:
        self.seat_of: dict[int, int] = {}

    def seated(self, game_id: int, tickets: Sequence[MatchTicket]) -> None:
        for ticket in tickets:
            self.seat_of[ticket.user_id] = game_id

    def game_of(self, user_id: int) -> int | None:
        return self.seat_of.get(user_id)

    def room_finished(self, result: GameResult) -> None:
        for player in result.players:
            if self.seat_of.get(player.user_id) == result.game_id:
                del self.seat_of[player.user_id]
