"""What a room writes to the database, and when.

`GameRecorder` is the rooms' `GamePersistence` on a `Database`. A room hands it
values (the game item and player rows it builds, `rooms/records.py`): while the
room lives, as full-item puts queued on the data layer's batch writer; when it
ends, the result together with its ratings in one call (`Database.record_result`).
Full items rather than partial updates: the room holds the whole record in
memory, the batch writer keeps the writes of one key in order, and a put is
idempotent, so a retried or duplicated write can never leave a game
half-updated. Only the result's write awaits, in its own task: the tick path
stays free of I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from snaketron.db.errors import DatabaseError, WriteDropped
from snaketron.db.interface import Database
from snaketron.db.models import GamePlayerRecord, GameRecord, RatingUpdate, SpectatorRecord
from snaketron.logs import get_logger

log = get_logger(__name__)


class GameRecorder:
    """`GamePersistence` on a `Database`: every write but the result's is queued at once."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save_game(self, game: GameRecord, players: Sequence[GamePlayerRecord]) -> None:
        try:
            future = self._db.save_game_nowait(game, players)
        except DatabaseError as exc:  # the writer is closed: shutdown went wrong, say so loudly
            log.error("game write refused", game_id=game.game_id, error=str(exc))
            return
        future.add_done_callback(_log_failure)

    def spectator_added(self, spectator: SpectatorRecord) -> None:
        try:
            self._db.add_spectator_nowait(spectator).add_done_callback(_log_failure)
        except DatabaseError as exc:
            log.error("spectator write refused", game_id=spectator.game_id, error=str(exc))

    async def record_result(
        self, game: GameRecord, players: Sequence[GamePlayerRecord], ratings: Sequence[RatingUpdate]
    ) -> bool:
        """The finished game, its players' places and new ratings, and (matchmade) the
        users' ratings: one call, so no listener's order decides what is written. False
        (logged) when it did not land."""
        try:
            await self._db.record_result(game, players, ratings)
        except DatabaseError as exc:
            if not isinstance(exc, WriteDropped):  # at shutdown the batch writer counts those
                log.error("game result not saved", game_id=game.game_id, error=str(exc))
            return False
        return True


def _log_failure(future: asyncio.Future[None]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if isinstance(exc, WriteDropped):
        return  # the shutdown's flush deadline: the batch writer logged the count
    if exc is not None:
        log.error("game write failed", error=str(exc))
