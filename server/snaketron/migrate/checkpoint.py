"""Where a migration stands, kept in the target's main table so any run can resume.

One item per phase (`pk=MIGRATION#postgres`, `sk=PHASE#<name>`) holds the key of
the last source row whose items are durable, and one item (`sk=RUN`) holds the
digest of the username plan the migration was started with. A phase's
checkpoint moves only after the batch writer has confirmed every item up to
that row, so an interrupted run loses nothing: the next run starts after the
checkpoint and rewrites at most the rows written since, with the same keys and
the same content. A finished phase is skipped, so a second run writes nothing.

These items have no GSI keys, so no query of the server ever sees them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from snaketron.db.errors import NotFound

PK = "MIGRATION#postgres"


class PhaseCheckpoint(msgspec.Struct, kw_only=True):
    phase: str
    after: tuple[int, ...] = ()  # key of the last durable row; () = from the start
    rows: int = 0  # rows carried over by every run together
    done: bool = False


class RunState(msgspec.Struct, kw_only=True):
    plan_digest: str
    started_at_ms: int
    completed_at_ms: int = 0


class CheckpointStore:
    """Checkpoints through the data layer's client (`snaketron.db.client.DynamoClient`)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, sk: str) -> dict[str, Any]:
        return {"pk": {"S": PK}, "sk": {"S": sk}}

    async def _get(self, sk: str) -> dict[str, Any] | None:
        try:
            response = await self._client.call(
                "get_item", TableName=self._table, Key=self._key(sk), ConsistentRead=True
            )
        except NotFound:
            return None
        return response.get("Item")

    async def load_run(self) -> RunState | None:
        item = await self._get("RUN")
        if item is None:
            return None
        return RunState(
            plan_digest=item["planDigest"]["S"],
            started_at_ms=int(item["startedAtMs"]["N"]),
            completed_at_ms=int(item.get("completedAtMs", {"N": "0"})["N"]),
        )

    async def save_run(self, state: RunState) -> None:
        item = {
            **self._key("RUN"),
            "planDigest": {"S": state.plan_digest},
            "startedAtMs": {"N": str(state.started_at_ms)},
            "completedAtMs": {"N": str(state.completed_at_ms)},
        }
        await self._client.call("put_item", TableName=self._table, Item=item)

    async def load(self, phase: str) -> PhaseCheckpoint:
        item = await self._get(f"PHASE#{phase}")
        if item is None:
            return PhaseCheckpoint(phase=phase)
        return PhaseCheckpoint(
            phase=phase,
            after=tuple(int(v["N"]) for v in item["after"]["L"]),
            rows=int(item["rows"]["N"]),
            done=item["done"]["BOOL"],
        )

    async def save(self, checkpoint: PhaseCheckpoint) -> None:
        item = {
            **self._key(f"PHASE#{checkpoint.phase}"),
            "after": {"L": [{"N": str(v)} for v in checkpoint.after]},
            "rows": {"N": str(checkpoint.rows)},
            "done": {"BOOL": checkpoint.done},
        }
        await self._client.call("put_item", TableName=self._table, Item=item)

    async def clear(self, phases: tuple[str, ...]) -> None:
        """Forget every checkpoint (`--restart`): the next run rewrites everything."""
        for sk in ("RUN", *(f"PHASE#{p}" for p in phases)):
            await self._client.call("delete_item", TableName=self._table, Key=self._key(sk))
