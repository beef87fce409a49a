"""Reads of boards, exact ranks, profiles and histories, each a bounded number of requests.

- page at offset 0: one Query of the board in GSI1 (limit + 1 items, for hasMore);
- page at offset n > 0: one Query of the board's bucket counters, then one Query of
  the board starting at the bucket that holds position n;
- exact rank: GetItem of the entry, Query of the bucket counters above it, and a
  COUNT Query of its own bucket up to its key;
- profile: GetItem of the name, one Query of the user's META and STATS# items;
- history page: one Query of the user's HIST# rows, newest first.

The counters and the index are read eventually consistently, so right after a game a
rank may lag that game by the index's propagation delay (usually well under a second).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from snaketron.db.client import DynamoClient
from snaketron.db.codec import from_item, to_attr, to_item
from snaketron.leaderboard import keys
from snaketron.leaderboard.keys import BoardType


@dataclass(frozen=True, slots=True)
class BoardPage:
    entries: list[dict[str, Any]]  # each with its "rank"
    has_more: bool


@dataclass(frozen=True, slots=True)
class HistoryPage:
    games: list[dict[str, Any]]
    cursor: str | None


class BadCursor(ValueError):
    pass


class LeaderboardReader:
    def __init__(self, client: DynamoClient, table: str, usernames_table: str) -> None:
        self._client = client
        self._table = table
        self._usernames = usernames_table

    # --- boards --------------------------------------------------------------------------

    async def page(self, season: str, board: BoardType, scope: str, *, offset: int, limit: int) -> BoardPage:
        start_key: str | None = None
        skip = offset
        if offset > 0:
            counts = await self._bucket_counts(season, board, scope)
            above = 0
            for bucket, count in counts:
                if above + count > offset:
                    start_key, skip = keys.bucket_start(bucket), offset - above
                    break
                above += count
            else:
                return BoardPage([], False)
        condition = "gsi1pk = :pk"
        values = {":pk": to_attr(keys.board_name(season, board, scope))}
        if start_key is not None:
            condition += " AND gsi1sk >= :start"
            values[":start"] = to_attr(start_key)
        found = await self._query_items(
            skip + limit + 1,
            TableName=self._table,
            IndexName="GSI1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
        rows = found[skip:]
        entries = [{**row, "rank": offset + i + 1} for i, row in enumerate(rows[:limit])]
        return BoardPage(entries, len(rows) > limit)

    async def entry(self, user_id: int, season: str, board: BoardType, scope: str) -> dict[str, Any] | None:
        response = await self._client.call(
            "get_item", TableName=self._table, Key=to_item(keys.entry_key(user_id, season, board, scope))
        )
        raw = response.get("Item")
        return from_item(raw) if raw else None

    async def rank_of(self, entry: dict[str, Any], season: str, board: BoardType, scope: str) -> int:
        """The entry's exact position on its board (1 = first)."""
        value = entry["score"] if board == "solo" else entry["mmr"]
        own_bucket = keys.bucket_of(value)
        above = sum(count for _, count in await self._bucket_counts(season, board, scope, below=own_bucket))
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :own",
            "ExpressionAttributeValues": {
                ":pk": to_attr(keys.board_name(season, board, scope)),
                ":start": to_attr(keys.bucket_start(own_bucket)),
                ":own": to_attr(entry["gsi1sk"]),
            },
            "Select": "COUNT",
        }
        inside = 0
        while True:
            response = await self._client.call("query", **params)
            inside += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last
        return above + max(inside, 1)

    async def _bucket_counts(
        self, season: str, board: BoardType, scope: str, *, below: int | None = None
    ) -> list[tuple[int, int]]:
        """(bucket, count) of the board's buckets in order, highest values first; with
        `below`, only the buckets above that one."""
        condition = "pk = :pk"
        values = {":pk": to_attr(keys.bucket_pk(season, board, scope))}
        if below is not None:
            condition += " AND sk < :own"
            values[":own"] = to_attr(keys.bucket_sk(below))
        found = await self._query_items(
            None, TableName=self._table, KeyConditionExpression=condition, ExpressionAttributeValues=values
        )
        return [(int(item["sk"]), int(item.get("count", 0))) for item in found if item.get("count", 0) > 0]

    async def _query_items(self, wanted: int | None, **params: Any) -> list[dict[str, Any]]:
        """Items of a Query in order, following pages until `wanted` (None: all) are read."""
        found: list[dict[str, Any]] = []
        while True:
            if wanted is not None:
                params["Limit"] = wanted - len(found)
            response = await self._client.call("query", **params)
            found.extend(from_item(i) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (wanted is not None and len(found) >= wanted):
                return found
            params["ExclusiveStartKey"] = last

    # --- players -----------------------------------------------------------------------------

    async def user_id_of(self, username: str) -> int | None:
        response = await self._client.call(
            "get_item", TableName=self._usernames, Key=to_item({"username": username.lower()})
        )
        raw = response.get("Item")
        return int(from_item(raw)["userId"]) if raw else None

    async def profile_items(self, user_id: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The user item and their STATS# items, in one Query ("META" < "STATS#")."""
        found = await self._query_items(
            None,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :meta AND :stats_end",
            ExpressionAttributeValues={
                ":pk": to_attr(f"USER#{user_id}"),
                ":meta": to_attr("META"),
                ":stats_end": to_attr(keys.STATS_PREFIX + "~"),
            },
        )
        user = next((i for i in found if i["sk"] == "META"), None)
        return user, [i for i in found if str(i["sk"]).startswith(keys.STATS_PREFIX)]

    async def history(self, user_id: int, *, limit: int, cursor: str | None) -> HistoryPage:
        pk = f"USER#{user_id}"
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :hist)",
            "ExpressionAttributeValues": {":pk": to_attr(pk), ":hist": to_attr(keys.HISTORY_PREFIX)},
            "ScanIndexForward": False,
        }
        if cursor is not None:
            params["ExclusiveStartKey"] = to_item({"pk": pk, "sk": decode_cursor(cursor)})
        found = await self._query_items(limit + 1, **params)
        games = found[:limit]
        next_cursor = encode_cursor(games[-1]["sk"]) if len(found) > limit and games else None
        return HistoryPage(games, next_cursor)


def encode_cursor(sort_key: str) -> str:
    """Opaque to clients: the last row's sort key, never a table or user name."""
    return base64.urlsafe_b64encode(json.dumps({"h": sort_key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("cursor is not one this server issued") from None
    sort_key = decoded.get("h") if isinstance(decoded, dict) else None
    if not isinstance(sort_key, str) or not sort_key.startswith(keys.HISTORY_PREFIX) or len(sort_key) > 64:
        raise BadCursor("cursor is not one this server issued")
    return sort_key
