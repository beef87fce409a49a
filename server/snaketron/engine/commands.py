"""Commands waiting for their tick, applied in the order (tick, user_id, sequence_number)."""

from __future__ import annotations

import heapq
from operator import itemgetter

from snaketron.engine.types import CommandId, GameCommand, GameCommandMessage

# A heap entry's order: its stamp (a tuple key built in C, not a lambda slicing it).
_STAMP = itemgetter(0, 1, 2)


class CommandQueue:
    __slots__ = ("_heap", "_received")

    def __init__(self) -> None:
        # (tick, user_id, sequence_number, message): the server stamp is unique per
        # game, so the message itself is never compared.
        self._heap: list[tuple[int, int, int, GameCommandMessage]] = []
        self._received = 0

    def schedule(
        self, user_id: int, client_id: CommandId, command: GameCommand, earliest_tick: int, latest_tick: int
    ) -> GameCommandMessage:
        """Stamp a command just received with the server's id (its effective tick and
        receive order), queue it and return it as stamped.

        A command for a tick already computed runs at `earliest_tick` (the next
        computed tick); one stamped beyond `latest_tick` is clamped to it.
        """
        tick = min(max(client_id.tick, earliest_tick), latest_tick)
        sequence = self._received
        self._received = sequence + 1
        message = GameCommandMessage(
            command_id_client=client_id, command_id_server=CommandId(tick, user_id, sequence), command=command
        )
        heapq.heappush(self._heap, (tick, user_id, sequence, message))
        return message

    def push(self, message: GameCommandMessage) -> None:
        server_id = message.command_id_server
        assert server_id is not None, "only stamped commands are queued"
        heapq.heappush(self._heap, (server_id.tick, server_id.user_id, server_id.sequence_number, message))
        # A queue restored from a snapshot keeps its stamps unique.
        self._received = max(self._received, server_id.sequence_number + 1)

    def due(self, tick: int) -> bool:
        """Whether any command's effective tick is <= `tick`: most ticks have none."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= tick

    def pop_due(self, tick: int) -> list[GameCommandMessage]:
        """Remove and return, in order, every command whose effective tick is <= `tick`."""
        heap = self._heap
        due = []
        while heap and heap[0][0] <= tick:
            due.append(heapq.heappop(heap)[3])
        return due

    def pending(self) -> list[GameCommandMessage]:
        return [entry[3] for entry in sorted(self._heap, key=_STAMP)]

    def __len__(self) -> int:
        return len(self._heap)
