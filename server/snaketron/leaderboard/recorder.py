"""`LeaderboardRecorder`: writes everything one finished game changes, in two requests
(a rated game's new ratings ride in the second: `record(result, with_actions=...)`),
or one when this server wrote the players' boards last (`copies.py`).

1. BatchGetItem (strongly consistent) of the board entries and profile stats the
   game touches, but for rated players whose copy holds them;
2. TransactWriteItems of the plan (`plan.py`): entries and stats as whole items
   guarded by the version just read, bucket counters as atomic ADDs, history rows
   guarded by absence.

Two servers finishing games of the same player at once cannot lose an update: the
second transaction fails its version guard, and the recorder reads again and
re-plans (optimistic concurrency, bounded attempts). A transaction cancelled because
a history row already exists means this game was recorded before: nothing to do.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from snaketron.db.client import DynamoClient
from snaketron.db.codec import from_item, to_attr, to_item
from snaketron.db.errors import DatabaseError, TransactionCancelled
from snaketron.db.interface import MAX_TRANSACTION_ACTIONS
from snaketron.db.models import RatingUpdate
from snaketron.leaderboard.copies import BoardCopies
from snaketron.leaderboard.plan import BucketDelta, Key, Put, keys_to_read_by_player, plan
from snaketron.leaderboard.seasons import season_at
from snaketron.logs import get_logger
from snaketron.rooms.result import GameResult

if TYPE_CHECKING:
    from snaketron.db.dynamo import DynamoDatabase

log = get_logger(__name__)

BATCH_GET_KEYS = 100
# A player is in one game at a time, or a few while leaving and rejoining: conflicts
# are rare, and each round of them lets at least one writer through. The jittered
# pause keeps the losers of a round from meeting again at once.
CONFLICT_ATTEMPTS = 10
CONFLICT_PAUSE_S = 0.01


class RecordConflict(DatabaseError):
    """Other writers kept changing the same entries; the game was not recorded."""


class RatingActionsRefused(DatabaseError):
    """An action the caller put in front of the plan (`with_actions`: the game's rating
    writes) failed its condition; `failed` holds their indexes. Nothing was written."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"actions {failed} refused")
        self.failed = failed


class LeaderboardRecorder:
    """One per process. `await recorder.record(result)` once per finished game, with
    the result the ratings write produced (its players' `mmr_after`): a rated player
    without one stays off the boards. It never blocks a tick: call it from a task."""

    def __init__(
        self, client: DynamoClient, table: str, *, season_months: int, copies: BoardCopies | None = None
    ) -> None:
        self._client = client
        self._table = table
        self._season_months = season_months
        self._copies = BoardCopies() if copies is None else copies

    @classmethod
    def for_database(cls, db: DynamoDatabase) -> LeaderboardRecorder:
        """The recorder of a server's database, with its configured season length."""
        return cls(db.client, db.tables.main, season_months=db.settings.season_months)

    async def record(
        self,
        result: GameResult,
        *,
        with_actions: Sequence[dict[str, Any]] = (),
        actions_landed: Callable[[], Awaitable[bool]] | None = None,
        ratings: Sequence[RatingUpdate] = (),
    ) -> bool:
        """Write the game's changes; False when it had already been recorded.

        `with_actions` (the game's rating writes) go in front of the plan in the same
        transaction, so ratings and boards land together in one request; when one of
        them fails its condition, RatingActionsRefused (nothing was written). When the
        two do not fit one transaction, they go as two, the caller's first; then
        `actions_landed` tells a refused retry whose first attempt landed (its answer
        lost) from a real refusal, which the combined transaction's history rows tell.
        `ratings` are the new ratings those actions write: a player rated from the
        gamesPlayed this server's copy was kept at is planned from the copy, unread
        (`copies.py`), and the copies are kept for the next game."""
        season = season_at(result.end_ms, self._season_months).id
        wanted = keys_to_read_by_player(result, season)
        played = {u.user_id: u for u in ratings}
        prefix = list(with_actions)
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            current, copied = await self._current(wanted, played)
            changes = plan(result, current, season)
            actions = [self._put(p) for p in changes.puts] + [self._add(b) for b in changes.buckets]
            if len(actions) > MAX_TRANSACTION_ACTIONS:
                raise DatabaseError(f"game {result.game_id}: {len(actions)} leaderboard writes exceed one transaction")
            try:
                if prefix and len(prefix) + len(actions) > MAX_TRANSACTION_ACTIONS:
                    await self._write_alone(prefix, actions_landed)
                    prefix = []
                await self._client.call("transact_write_items", TransactItems=prefix + actions)
            except TransactionCancelled as exc:
                self._copies.drop(wanted)
                # History rows first: a retried request whose first attempt landed (its
                # answer lost) fails every guard, the ratings' too; it was recorded.
                if _history_exists(changes.puts, exc.reasons[len(prefix) :]):
                    log.info("leaderboard_already_recorded", game_id=result.game_id)
                    return False
                refused = [i for i in exc.failed() if i < len(prefix)]
                if refused:
                    raise RatingActionsRefused(refused) from None
                if copied:
                    continue  # a copy was out of date, not a writer racing us: read at once
                log.info("leaderboard_conflict", game_id=result.game_id, attempt=attempt)
                await asyncio.sleep(random.uniform(0, CONFLICT_PAUSE_S * 2 ** min(attempt, 6)))
                continue
            except BaseException:
                self._copies.drop(wanted)  # landed or not, nobody can say
                raise
            self._keep_copies(wanted, played, changes.puts, current)
            return True
        raise RecordConflict(f"game {result.game_id}: entries changed under {CONFLICT_ATTEMPTS} attempts")

    async def _current(
        self, wanted: dict[int, list[Key]], played: dict[int, RatingUpdate]
    ) -> tuple[dict[Key, dict[str, Any]], bool]:
        """The items the plan starts from: this server's copies where they hold, the rest
        read in one request; and whether any copy was used."""
        current: dict[Key, dict[str, Any]] = {}
        to_read: list[Key] = []
        for user_id, keys in wanted.items():
            rating = played.get(user_id)
            copy = None if rating is None else self._copies.take(user_id, rating.games_played_before, keys)
            if copy is None:
                to_read.extend(keys)
            else:
                current.update(copy)
        copied = bool(current)
        if to_read:
            current.update(await self._read(to_read))
        return current, copied

    def _keep_copies(
        self,
        wanted: dict[int, list[Key]],
        played: dict[int, RatingUpdate],
        puts: Sequence[Put],
        current: dict[Key, dict[str, Any]],
    ) -> None:
        """After the game's transaction landed: what it left under each rated player's keys."""
        written = {(p.item["pk"], p.item["sk"]): p.item for p in puts}
        for user_id, keys in wanted.items():
            rating = played.get(user_id)
            if rating is None:
                # Their boards moved without their gamesPlayed (a rated game whose rating
                # write failed, recorded by the listener): a copy would only be refused.
                self._copies.drop([user_id])
                continue
            items = {key: item for key in keys if (item := written.get(key) or current.get(key)) is not None}
            if len(items) == len(keys):
                self._copies.keep(user_id, rating.games_played_before, rating.games_played, items)
            else:
                self._copies.drop([user_id])

    async def _write_alone(self, actions: list[dict[str, Any]], landed: Callable[[], Awaitable[bool]] | None) -> None:
        try:
            await self._client.call("transact_write_items", TransactItems=actions)
        except TransactionCancelled as exc:
            # Without this look a retry whose first attempt landed was refused, and the
            # room re-read the ratings this game had just written and rated it again.
            if landed is not None and await landed():
                return
            raise RatingActionsRefused(exc.failed()) from None

    async def _read(self, wanted: Sequence[Key]) -> dict[Key, dict[str, Any]]:
        found: dict[Key, dict[str, Any]] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            pending: list[dict[str, Any]] = [to_item({"pk": pk, "sk": sk}) for pk, sk in wanted[start : start + 100]]
            while pending:
                response = await self._client.call(
                    "batch_get_item",
                    RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}},
                )
                for raw in response.get("Responses", {}).get(self._table, []):
                    item = from_item(raw)
                    found[(item["pk"], item["sk"])] = item
                pending = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return found

    def _put(self, put: Put) -> dict[str, Any]:
        request: dict[str, Any] = {"TableName": self._table, "Item": to_item(put.item)}
        if put.guard == "absent":
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "version = :v"
            request["ExpressionAttributeValues"] = {":v": to_attr(put.guard)}
        return {"Put": request}

    def _add(self, bucket: BucketDelta) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_item({"pk": bucket.pk, "sk": bucket.sk}),
                "UpdateExpression": "ADD #count :d",
                "ExpressionAttributeNames": {"#count": "count"},
                "ExpressionAttributeValues": {":d": to_attr(bucket.delta)},
            }
        }


def _history_exists(puts: tuple[Put, ...], reasons: tuple[str | None, ...]) -> bool:
    """Whether a cancelled transaction failed on a history row (puts come first, in order)."""
    for put, reason in zip(puts, reasons, strict=False):
        if reason == "ConditionalCheckFailed" and str(put.item["sk"]).startswith("HIST#"):
            return True
    return False
