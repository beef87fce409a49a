"""Durable integer ids, unique across processes and restarts, reserved in blocks.

Each entity has a counter item (`pk=COUNTER`, `sk=<ENTITY>`). One atomic
`ADD value :block` reserves the ids `(new - block, new]` for this process alone,
so the hot path pays one write per `block` ids. Ids are never reused: a block a
process did not finish is simply skipped after a restart (gaps are fine, clients
only need ids to be unique and to fit in 31 bits).
"""

from __future__ import annotations

import asyncio
from typing import Any

from snaketron.db.errors import Conflict, DatabaseError

MAX_ID = 2**31 - 1  # clients hold ids in i32/u32


class IdAllocator:
    def __init__(self, client: Any, table: str, block_size: int) -> None:
        self._client = client
        self._table = table
        self._block_size = max(1, block_size)
        self._next: dict[str, int] = {}
        self._end: dict[str, int] = {}  # last id of the reserved block, inclusive
        self._locks: dict[str, asyncio.Lock] = {}
        self._returned: dict[str, list[int]] = {}

    def give_back(self, entity: str, value: int) -> None:
        """Return an id nothing was written with (a registration that lost its name to a
        concurrent one); the next caller gets it. Lost on restart: a gap, as ever."""
        self._returned.setdefault(entity.upper(), []).append(value)

    async def next_id(self, entity: str) -> int:
        entity = entity.upper()
        returned = self._returned.get(entity)
        if returned:
            return returned.pop()
        lock = self._locks.setdefault(entity, asyncio.Lock())
        async with lock:  # concurrent callers share one block reservation
            if self._next.get(entity, 1) > self._end.get(entity, 0):
                await self._reserve(entity)
            value = self._next[entity]
            self._next[entity] = value + 1
            return value

    async def restore_counters(self) -> None:
        """After the counters were lost (the embedded endpoint restarted empty): set each
        counter this process reserved ids from back to the end of its last block, so that
        ids are still never reused. A counter already past it keeps its value."""
        for entity, end in list(self._end.items()):
            try:
                await self._client.call(
                    "update_item",
                    TableName=self._table,
                    Key={"pk": {"S": "COUNTER"}, "sk": {"S": entity}},
                    UpdateExpression="SET #v = :end",
                    ConditionExpression="attribute_not_exists(#v) OR #v < :end",
                    ExpressionAttributeNames={"#v": "value"},
                    ExpressionAttributeValues={":end": {"N": str(end)}},
                )
            except Conflict:
                pass  # already at or past our block

    async def _reserve(self, entity: str) -> None:
        response = await self._client.call(
            "update_item",
            TableName=self._table,
            Key={"pk": {"S": "COUNTER"}, "sk": {"S": entity}},
            UpdateExpression="ADD #v :block",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":block": {"N": str(self._block_size)}},
            ReturnValues="UPDATED_NEW",
        )
        end = int(response["Attributes"]["value"]["N"])
        if end > MAX_ID:
            raise DatabaseError(f"{entity} ids exhausted (counter at {end})")
        self._end[entity] = end
        self._next[entity] = end - self._block_size + 1
