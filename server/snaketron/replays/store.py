"""`ReplayStore`: a finished game's recording, compressed, in the game's own partition.

Items (docs/DATA_MODEL.md): `pk = GAME#<id>`, `sk = REPLAY#000`, `REPLAY#001`, ...,
each holding up to `chunk_bytes` of the compressed recording (well under DynamoDB's
400 KB item limit) and `ttl`. The first piece also says how many pieces there are,
the rules version, whether the game is private and who played it, so one Query of
the game's partition answers both the summary and the replay.

Writes go through the batch writer with no await: `save` is called when a game
finishes, right after the game's own result write, so the piece (one for any game
shorter than hours) rides in the same BatchWriteItem as the game and player items.
Reads treat a missing piece or an expired one (`ttl <= now`: DynamoDB deletes
lazily) as no replay at all.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import msgspec

from snaketron.db import items as shapes
from snaketron.db.codec import to_item
from snaketron.db.dynamo import DynamoDatabase, wall_clock_ms
from snaketron.db.models import GameWithMembers
from snaketron.engine.recording import Recording
from snaketron.replays.codec import ReplayCorrupt, decode_recording, encode_recording, split
from snaketron.rooms.result import GameResult

# Bytes of compressed recording per item: the item limit is 400 KB including the
# attribute names and keys, so this leaves ample room (a duel needs ~2 KB a minute).
CHUNK_BYTES = 350_000


class ReplaySummary(msgspec.Struct, frozen=True, kw_only=True):
    """What the room knows at the end besides the recording."""

    is_private: bool  # a private custom lobby or a solo game: only its players may watch
    ended_at_ms: int

    @classmethod
    def of_result(cls, result: GameResult) -> ReplaySummary:
        """From the value a finished room hands its listeners (rooms/result.py)."""
        return cls(is_private=result.is_private or result.kind == "solo", ended_at_ms=result.end_ms)


class StoredReplay(msgspec.Struct, frozen=True, kw_only=True):
    game_id: int
    rules_version: int
    is_private: bool
    user_ids: list[int]
    ended_at_ms: int
    size_bytes: int
    chunks: int
    data: bytes

    def recording(self) -> Recording:
        return decode_recording(self.data)


class ReplayStore:
    def __init__(
        self,
        db: DynamoDatabase,
        *,
        ttl_seconds: int,
        clock_ms: Callable[[], int] = wall_clock_ms,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self._db = db
        self._ttl_seconds = ttl_seconds
        self._clock_ms = clock_ms
        self._chunk_bytes = chunk_bytes

    def save(self, recording: Recording, summary: ReplaySummary) -> asyncio.Future[Any]:
        """Queue the replay's items on the batch writer; never waits. The future
        resolves once every piece is durable."""
        table = self._db.tables.main
        writer = self._db.writer
        return asyncio.gather(*(writer.put_nowait(table, item) for item in self.items(recording, summary)))

    def items(self, recording: Recording, summary: ReplaySummary) -> list[dict[str, Any]]:
        """The replay's pieces as typed items of the main table (the result's write may
        put a lone piece in its own transaction instead of queueing it)."""
        pieces = split(encode_recording(recording), self._chunk_bytes)
        ttl = math.ceil(self._clock_ms() / 1000) + self._ttl_seconds
        meta = {
            "chunks": len(pieces),
            "bytes": sum(len(p) for p in pieces),
            "rulesVersion": recording.rules_version,
            "isPrivate": summary.is_private,
            "userIds": [user_id for user_id, _ in recording.seats],
            "endedAt": summary.ended_at_ms,
        }
        return [
            to_item(shapes.replay_chunk_item(recording.game_id, i, piece, ttl=ttl, **(meta if i == 0 else {})))
            for i, piece in enumerate(pieces)
        ]

    async def load_game(self, game_id: int) -> tuple[GameWithMembers | None, StoredReplay | None]:
        """The game with its members and its replay (None when absent, unfinished or
        expired), from one Query of the game's partition."""
        game, pieces = shapes.game_with_members_from_items(await self._db.read_game_partition(game_id))
        return game, self._assemble(game_id, pieces)

    async def load(self, game_id: int) -> StoredReplay | None:
        return (await self.load_game(game_id))[1]

    def _assemble(self, game_id: int, pieces: list[dict[str, Any]]) -> StoredReplay | None:
        now_ms = self._clock_ms()
        if not pieces or pieces[0].get("chunk") != 0 or any(shapes.expired(p, now_ms) for p in pieces):
            return None
        head = pieces[0]
        count = int(head["chunks"])
        # All pieces present, in order: a replay still being written is not there yet.
        if [p.get("chunk") for p in pieces] != list(range(count)):
            return None
        data = b"".join(bytes(p["data"]) for p in pieces)
        if len(data) != head.get("bytes"):
            raise ReplayCorrupt(f"replay of game {game_id} has {len(data)} bytes, its head says {head.get('bytes')}")
        return StoredReplay(
            game_id=game_id,
            rules_version=int(head["rulesVersion"]),
            is_private=bool(head.get("isPrivate", True)),
            user_ids=[int(u) for u in head.get("userIds", [])],
            ended_at_ms=int(head.get("endedAt", 0)),
            size_bytes=len(data),
            chunks=count,
            data=data,
        )
