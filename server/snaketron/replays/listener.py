"""Every finished game's replay, saved as the game ends (a room listener)."""

from __future__ import annotations

import asyncio
from typing import Any

from snaketron.db.errors import DatabaseError
from snaketron.logs import get_logger
from snaketron.replays.store import ReplayStore, ReplaySummary
from snaketron.rooms.result import GameResult
from snaketron.rooms.room import RoomListener

log = get_logger(__name__)


class ReplaySaver(RoomListener):
    """Queues the replay of each game that started: its items ride the batch writer with
    the game's own result (nothing is awaited here, nothing touches a tick)."""

    def __init__(self, store: ReplayStore) -> None:
        self._store = store

    def room_finished(self, result: GameResult) -> None:
        if result.recording is None:  # never started, or resumed from a state
            return
        try:
            saved = self._store.save(result.recording, ReplaySummary.of_result(result))
        except DatabaseError as exc:  # the batch writer is closed (a shutdown past its deadline)
            log.error("replay not saved", game_id=result.game_id, error=str(exc))
            return
        saved.add_done_callback(lambda done: _log_failure(done, result.game_id))


def _log_failure(done: asyncio.Future[Any], game_id: int) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("replay not saved", game_id=game_id, error=str(done.exception()))
