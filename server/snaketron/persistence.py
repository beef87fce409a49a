"""What a room writes to the database, and when.

`GameRecorder` is the rooms' `GamePersistence` on a `Database`. A room hands it
values (the game item and player rows it builds, `rooms/records.py`): while the
room lives, as full-item puts queued on the data layer's batch writer; when it
ends, the result together with its ratings, its replay and (rated games) its
leaderboard changes.
Full items rather than partial updates: the room holds the whole record in
memory, the batch writer keeps the writes of one key in order, and a put is
idempotent, so a retried or duplicated write can never leave a game
half-updated. Only the result's write awaits, in its own task: the tick path
stays free of I/O.

Requests per finished game (issue 22): the game item, player rows and replay
pieces are queued together, so they share one BatchWriteItem; a rated game's new
ratings go into the leaderboard's own transaction (`LeaderboardRecorder.record`
with the rating actions in front): one BatchGetItem and one TransactWriteItems
for ratings, boards, profiles and histories, all or nothing; the BatchGetItem is
left out for players whose boards this server wrote last (`leaderboard/copies.py`).
The ratings are remembered (`known_rating`), so a player queueing again here
carries their new rating on the ticket without reading it. At most
`writes_in_flight` rating writes (with their boards) are in flight at once
(SNAKETRON_DB_RESULT_WRITES); rows never wait for a slot.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from snaketron.config import EMBEDDED_RESULT_WRITES
from snaketron.db.errors import DatabaseError, RatingConflict, WriteDropped
from snaketron.db.interface import Database
from snaketron.db.models import GamePlayerRecord, GameRecord, RatingUpdate, SpectatorRecord
from snaketron.leaderboard.recorder import LeaderboardRecorder, RatingActionsRefused
from snaketron.logs import get_logger
from snaketron.rating import RatingCopy, copy_of, copy_of_update
from snaketron.replays.store import ReplayStore, ReplaySummary
from snaketron.rooms.result import GameResult

log = get_logger(__name__)

# Ratings remembered for players queueing again (most recently written first out last):
# a few MB at most, and a forgotten one only costs the sign-in copy or one read.
KNOWN_RATINGS = 50_000
# Games whose boards were written with their ratings, until the leaderboard listener
# asks (it asks once per game, right after); bounded in case it never does.
BOARDED_MEMORY = 10_000


class ResultActions(Protocol):
    """The data layer's result writes as transaction actions (`DynamoDatabase`)."""

    def rating_actions(self, updates: Sequence[RatingUpdate]) -> list[dict[str, Any]]: ...
    def rating_refused(self, updates: Sequence[RatingUpdate], failed: Sequence[int]) -> DatabaseError: ...
    async def ratings_are(self, updates: Sequence[RatingUpdate]) -> bool: ...
    def row_actions(
        self, game: GameRecord, players: Sequence[GamePlayerRecord], items: Sequence[dict[str, Any]] = ()
    ) -> list[dict[str, Any]] | None: ...


class GameRecorder:
    """`GamePersistence` on a `Database`: every write but the result's is queued at once."""

    def __init__(
        self,
        db: Database,
        *,
        replays: ReplayStore | None = None,
        boards: LeaderboardRecorder | None = None,
        rating_actions: ResultActions | None = None,
        writes_in_flight: int = EMBEDDED_RESULT_WRITES,
    ) -> None:
        self._db = db
        # Games formed in one matching round end within moments of each other. Sent all
        # at once, their rating writes filled the connection pool and the endpoint's line,
        # and the matcher's next read and claims waited seconds behind them (a round of
        # 0.2 s took up to 6.7 s at 2,000 matchmade duel bots). A rating write can wait its
        # turn here: its game's end is already on the players' screens. Only the rating
        # requests take a slot; rows bound for the batch writer never wait for one.
        self._result_slots = asyncio.Semaphore(writes_in_flight)
        self._replays = replays
        self._boards = boards if rating_actions is not None else None
        self._rating_actions = rating_actions
        self._known: collections.OrderedDict[int, RatingCopy] = collections.OrderedDict()
        self._boarded: collections.OrderedDict[int, None] = collections.OrderedDict()

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

    def player_removed(self, game_id: int, user_id: int) -> None:
        """A lobby's seat given up before the start: its row goes, so the game keeps only
        the players who played it."""
        self._delete_rows(game_id, game=False, player_ids=(user_id,), spectator_ids=())

    def game_discarded(self, game_id: int, player_ids: Sequence[int], spectator_ids: Sequence[int]) -> None:
        """A lobby closed before its start (everyone left): it was never played, so its
        game item and rows go as its lobby item does (docs/DATA_MODEL.md)."""
        self._delete_rows(game_id, game=True, player_ids=player_ids, spectator_ids=spectator_ids)

    def _delete_rows(
        self, game_id: int, *, game: bool, player_ids: Sequence[int], spectator_ids: Sequence[int]
    ) -> None:
        try:
            future = self._db.delete_game_rows_nowait(
                game_id, game=game, player_ids=player_ids, spectator_ids=spectator_ids
            )
        except DatabaseError as exc:  # the writer is closed: shutdown went wrong, say so loudly
            log.error("game rows not deleted", game_id=game_id, error=str(exc))
            return
        future.add_done_callback(_log_failure)

    async def record_result(
        self,
        game: GameRecord,
        players: Sequence[GamePlayerRecord],
        ratings: Sequence[RatingUpdate],
        result: GameResult | None = None,
    ) -> bool:
        """The finished game, its players' places and new ratings, and (matchmade) the
        users' ratings: one call, so no listener's order decides what is written.
        `result` is the game's result as it will be announced if this lands: its replay
        is written with the rows, its boards with the ratings. False (logged) when it
        did not land (the rows still do, through the batch writer); RatingConflict when
        a rating moved on since the tickets were read (nothing was written: the room
        re-reads and re-rates)."""
        # Known at once, not once landed: a player who queues again while this result
        # waits its turn (result slots, above) carries it, and their next game here is
        # rated from it. That game's write is guarded on the gamesPlayed, ratingMu and
        # ratingSigma it was computed from, so a rating that never lands cannot be built
        # on: the write is refused and the room reads.
        for u in ratings:
            self._remember(u)
        written = False
        try:
            written = await self._record_result(game, players, ratings, result)
        finally:
            if not written:
                self._forget(ratings)
        return written

    async def _record_result(
        self,
        game: GameRecord,
        players: Sequence[GamePlayerRecord],
        ratings: Sequence[RatingUpdate],
        result: GameResult | None,
    ) -> bool:
        if not ratings and result is None:
            try:
                await self._db.record_result(game, players, ratings)
            except DatabaseError as exc:
                return _failed(game, exc)
            return True
        boards, actions = self._boards, self._rating_actions
        if ratings and result is not None and boards is not None and actions is not None:
            return await self._rated_with_boards(game, players, ratings, result, boards, actions)
        try:
            queued = self._queue_rows(game, players, result)
        except DatabaseError as exc:  # the writer is closed (a shutdown past its deadline)
            return _failed(game, exc)
        try:
            if ratings:
                async with self._result_slots:
                    await self._db.update_ratings(ratings)
        except RatingConflict:
            await asyncio.wait([queued])
            raise
        except DatabaseError as exc:
            await asyncio.wait([queued])  # the rows still land
            return _failed(game, exc)
        await asyncio.wait([queued])  # durable before the result is announced
        if queued.exception() is not None:
            return _failed(game, _as_error(queued.exception()))
        return True

    async def _rated_with_boards(
        self,
        game: GameRecord,
        players: Sequence[GamePlayerRecord],
        ratings: Sequence[RatingUpdate],
        result: GameResult,
        boards: LeaderboardRecorder,
        actions: ResultActions,
    ) -> bool:
        """A rated game: its rows, replay piece, ratings and boards in one transaction (one
        request, all or nothing); the rows go through the batch writer when it still
        holds an earlier write of them, or when the transaction fails."""
        replay = self._replay_items(result)
        rows = actions.row_actions(game, players, replay) if len(replay) <= 1 else None
        try:
            queued = self._queue_rows(game, players, result) if rows is None else None
        except DatabaseError as exc:  # the writer is closed (a shutdown past its deadline)
            return _failed(game, exc)
        prefix = actions.rating_actions(ratings)
        try:
            async with self._result_slots:
                await boards.record(
                    result,
                    with_actions=prefix + (rows or []),
                    actions_landed=lambda: actions.ratings_are(ratings),
                    ratings=ratings,
                )
        except asyncio.CancelledError:
            # Stopped (a shutdown past its deadline) while waiting for a slot or for the
            # answer: the rows go to the batch writer, which sends them at once and counts
            # them as dropped if they cannot land (full items: landing twice changes nothing).
            if queued is None:
                self._hand_rows_over(game, players, result)
            raise
        except RatingActionsRefused as exc:
            if queued is None:
                # The game must be stored whatever re-rating does (it reads first, and a
                # shutdown may cancel it): the rows without the refused ratings, which the
                # re-rated write then replaces.
                self._hand_rows_over(game, [msgspec.structs.replace(p, mmr_after=None) for p in players], None)
            else:
                await asyncio.wait([queued])
            raise actions.rating_refused(ratings, [i for i in exc.failed if i < len(prefix)]) from None
        except DatabaseError as exc:
            _failed(game, exc)
            # The rows must not be lost with the ratings: the batch writer keeps trying.
            try:
                if queued is None:
                    queued = self._queue_rows(game, players, result)
                await asyncio.wait([queued])
            except DatabaseError as closed:
                _failed(game, closed)
            return False
        if queued is not None:
            await asyncio.wait([queued])
            if queued.exception() is not None:
                _failed(game, _as_error(queued.exception()))
        self._boarded[result.game_id] = None
        while len(self._boarded) > BOARDED_MEMORY:
            self._boarded.popitem(last=False)
        return True

    def _hand_rows_over(self, game: GameRecord, players: Sequence[GamePlayerRecord], result: GameResult | None) -> None:
        """The rows on the batch writer without waiting for them (their failure is logged)."""
        try:
            self._queue_rows(game, players, result).add_done_callback(_log_failure)
        except DatabaseError as exc:  # the writer is closed (a shutdown past its deadline)
            _failed(game, exc)

    def _queue_rows(
        self, game: GameRecord, players: Sequence[GamePlayerRecord], result: GameResult | None
    ) -> asyncio.Future[Any]:
        """The rows and the replay on the batch writer, in one turn: one BatchWriteItem."""
        writes = [self._db.save_game_nowait(game, players)]
        if self._replays is not None and result is not None and result.recording is not None:
            saved = self._replays.save(result.recording, ReplaySummary.of_result(result))
            saved.add_done_callback(lambda done: _replay_failure(done, result.game_id))
            writes.append(saved)
        return asyncio.gather(*writes)

    def _replay_items(self, result: GameResult) -> list[dict[str, Any]]:
        if self._replays is None or result.recording is None:
            return []  # never started, or resumed from a state
        return self._replays.items(result.recording, ReplaySummary.of_result(result))

    async def read_ratings(self, user_ids: Sequence[int]) -> dict[int, RatingCopy]:
        """The users' ratings as stored now (the re-rating path of a refused write)."""
        found = {}
        for user_id in user_ids:
            found[user_id] = copy_of(await self._db.get_user(user_id))
        return found

    def known_rating(self, user_id: int) -> RatingCopy | None:
        """The newest rating this process wrote or is writing for the user (from its game's
        end until the write fails, if it does), if it still remembers it."""
        return self._known.get(user_id)

    def boards_recorded(self, game_id: int) -> bool:
        """Were the game's boards written with its ratings? (Asked once, by the listener.)"""
        return self._boarded.pop(game_id, 0) is None

    def _remember(self, update: RatingUpdate) -> None:
        self._known[update.user_id] = copy_of_update(update).newer(self._known.get(update.user_id))
        self._known.move_to_end(update.user_id)
        while len(self._known) > KNOWN_RATINGS:
            self._known.popitem(last=False)

    def _forget(self, updates: Sequence[RatingUpdate]) -> None:
        """These ratings did not land (or may not have): the next game reads or uses its ticket's."""
        for u in updates:
            if self._known.get(u.user_id) == copy_of_update(u):
                del self._known[u.user_id]


def _failed(game: GameRecord, exc: DatabaseError) -> bool:
    if not isinstance(exc, WriteDropped):  # at shutdown the batch writer counts those
        log.error("game result not saved", game_id=game.game_id, error=str(exc))
    return False


def _as_error(exc: BaseException | None) -> DatabaseError:
    return exc if isinstance(exc, DatabaseError) else DatabaseError(repr(exc))


def _replay_failure(done: asyncio.Future[Any], game_id: int) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("replay not saved", game_id=game_id, error=str(done.exception()))


def _log_failure(future: asyncio.Future[None]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if isinstance(exc, WriteDropped):
        return  # the shutdown's flush deadline: the batch writer logged the count
    if exc is not None:
        log.error("game write failed", error=str(exc))
