"""What a room writes to the database, and when.

`GameRecorder` turns a room's lifecycle (created, players changed, spectator
added, started) into full-item puts queued on the data layer's batch writer, and
writes a finished game's result together with its ratings in one call
(`Database.record_result`). Full items rather than partial updates: the host holds the
whole record in memory, the batch writer keeps the writes of one key in order,
and a put is idempotent, so a retried or duplicated write can never leave a game
half-updated. No hook but the result's awaits anything, and the result's runs as its own task:
the tick path stays free of I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import msgspec

from snaketron.db.errors import DatabaseError, WriteDropped
from snaketron.db.interface import Database
from snaketron.db.models import GamePlayerRecord, GameRecord, GameStatusName, RatingUpdate, SpectatorRecord
from snaketron.games import wall_clock_ms
from snaketron.logs import get_logger
from snaketron.rooms.room import Room

log = get_logger(__name__)


def game_status_name(hosted: Room) -> GameStatusName:
    if hosted.abandoned or (hosted.finished and not hosted.game.is_complete):
        return "abandoned"
    if hosted.game.is_complete:
        return "complete"
    return "started" if hosted.game.is_started else "waiting"


def game_record(hosted: Room, server_id: int, now_ms: int) -> GameRecord:
    game = hosted.game
    winner_user = hosted.winner_user_id()
    finished = hosted.finished
    return GameRecord(
        game_id=game.game_id,
        server_id=server_id,
        game_type=msgspec.to_builtins(game.game_type),
        game_mode=hosted.kind,
        status=game_status_name(hosted),
        is_private=hosted.is_private,
        allow_spectators=hosted.allow_spectators,
        game_code=hosted.game_code,
        host_user_id=game.host_user_id,
        created_at_ms=hosted.created_at_ms,
        updated_at_ms=now_ms,
        started_at_ms=game.start_ms if game.is_started else None,
        ended_at_ms=hosted.ended_at_ms if finished else None,
        winning_snake_id=game.winning_snake_id,
        winner_user_id=winner_user,
        final_tick=game.tick if finished else None,
    )


def player_records(
    hosted: Room, *, with_results: bool, mmr_after: dict[int, int] | None = None
) -> list[GamePlayerRecord]:
    game = hosted.game
    snakes = game.state.arena.snakes if with_results else None
    placement = hosted.places() if with_results else {}
    mmr_after = mmr_after or {}
    records = []
    for user_id, snake_id in game.players.items():
        records.append(
            GamePlayerRecord(
                game_id=game.game_id,
                user_id=user_id,
                username=game.usernames.get(user_id, ""),
                team_id=snakes[snake_id].team_id if snakes else None,
                snake_id=snake_id,
                joined_at_ms=hosted.joined_at_ms.get(user_id, hosted.created_at_ms),
                placement=placement.get(user_id),
                mmr_before=hosted.mmr_before(user_id),
                mmr_after=mmr_after.get(user_id),
            )
        )
    return records


class GameRecorder:
    """`GamePersistence` on a `Database`: every hook queues its writes and returns."""

    def __init__(self, db: Database, *, server_id: int = 0, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self._db = db
        self._clock_ms = clock_ms
        self.server_id = server_id

    def _save(self, hosted: Room, *, players: bool = False) -> None:
        record = game_record(hosted, self.server_id, self._clock_ms())
        rows = player_records(hosted, with_results=False) if players else []
        try:
            future = self._db.save_game_nowait(record, rows)
        except DatabaseError as exc:  # the writer is closed: shutdown went wrong, say so loudly
            log.error("game write refused", game_id=hosted.game_id, error=str(exc))
            return
        future.add_done_callback(_log_failure)

    def game_created(self, hosted: Room) -> None:
        self._save(hosted, players=True)

    def players_changed(self, hosted: Room) -> None:
        self._save(hosted, players=True)

    def spectator_added(self, hosted: Room, user_id: int) -> None:
        spectator = SpectatorRecord(game_id=hosted.game_id, user_id=user_id, joined_at_ms=self._clock_ms())
        try:
            self._db.add_spectator_nowait(spectator).add_done_callback(_log_failure)
        except DatabaseError as exc:
            log.error("spectator write refused", game_id=hosted.game_id, error=str(exc))

    def game_started(self, hosted: Room) -> None:
        self._save(hosted)

    async def record_result(self, hosted: Room, ratings: Sequence[RatingUpdate]) -> bool:
        """The finished game, its players' places and new ratings, and (matchmade) the
        users' ratings: one call, so no listener's order decides what is written. False
        (logged) when it did not land."""
        record = game_record(hosted, self.server_id, self._clock_ms())
        rows = player_records(hosted, with_results=True, mmr_after={u.user_id: u.mmr for u in ratings})
        try:
            await self._db.record_result(record, rows, ratings)
        except DatabaseError as exc:
            log.error("game result not saved", game_id=hosted.game_id, error=str(exc))
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
