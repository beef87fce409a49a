"""Boards, profiles and histories kept up to date as games finish (a room listener)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from snaketron.db.errors import DatabaseError
from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.logs import get_logger
from snaketron.rooms.ports import RoomListener
from snaketron.rooms.result import GameResult
from snaketron.tasks import BackgroundTasks

log = get_logger(__name__)


class LeaderboardUpdater(RoomListener):
    """Records each finished game on the boards in the background. The result it gets
    already holds the ratings the room wrote, so the boards show the new ratings.
    A rated game whose boards went into its ratings' transaction (`recorded_with_result`,
    persistence.GameRecorder) is already on them: nothing to do, no request."""

    def __init__(
        self,
        recorder: LeaderboardRecorder,
        tasks: BackgroundTasks,
        *,
        recorded_with_result: Callable[[int], bool] = lambda game_id: False,
    ) -> None:
        self._recorder = recorder
        self._tasks = tasks
        self._recorded_with_result = recorded_with_result
        self._pending: set[asyncio.Task[None]] = set()

    def room_finished(self, result: GameResult) -> None:
        if self._recorded_with_result(result.game_id):
            return
        task = self._tasks.spawn(self._record(result), "leaderboard update")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def idle(self) -> None:
        """Wait until every finished game handed in so far is on the boards (or logged lost)."""
        while self._pending:
            await asyncio.wait(set(self._pending))

    async def _record(self, result: GameResult) -> None:
        try:
            await self._recorder.record(result)  # idempotent: a game recorded twice counts once
        except DatabaseError as exc:  # unavailable past the retry deadline, or conflicts that never settled
            log.error("leaderboard update lost", game_id=result.game_id, error=str(exc))
