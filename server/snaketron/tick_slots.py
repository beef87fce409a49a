"""One event-loop timer for all the games whose next tick falls due together.

Each hosted game ticks 10 times a second. With a timer of its own, a host of
1,400 duels puts 14,000 `call_later` handles a second through the loop's timer
heap, and each fires a callback of its own: a sixth of the host's busy time in
the capacity benchmark. Games need not be woken to the millisecond, so their
deadlines are rounded up to a grid of `slot_ms` and the games due in one slot
share one timer, which runs them in the order they were added. A tick then runs
at most `slot_ms - 1` ms after its deadline: the game's own lateness figures
count that, and it is small next to the 50 ms delivery budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from snaketron.logs import get_logger

log = get_logger(__name__)

Item = TypeVar("Item")

# 50 slots per 100 ms tick: a few hundred timers a second however many games run.
TICK_SLOT_MS = 2


class TickSlots(Generic[Item]):
    """Call `due(item)` once at (or just after) each deadline an item is added for."""

    def __init__(self, due: Callable[[Item], None], *, slot_ms: int = TICK_SLOT_MS) -> None:
        self._due = due
        self.slot_ms = slot_ms
        self._slots: dict[int, list[Item]] = {}  # slot's time (ms, the clock's) -> items
        self.timers = 0  # timers set so far, for tests and benchmarks

    def add(self, item: Item, deadline_ms: int, now_ms: int) -> None:
        """Run `item` at the first slot at or after `deadline_ms` (both on the caller's clock)."""
        slot = -(-deadline_ms // self.slot_ms) * self.slot_ms
        waiting = self._slots.get(slot)
        if waiting is not None:
            waiting.append(item)
            return
        self._slots[slot] = [item]
        self.timers += 1
        asyncio.get_running_loop().call_later(max(0.0, (slot - now_ms) / 1000), self._fire, slot)

    def __len__(self) -> int:
        return sum(len(items) for items in self._slots.values())

    def _fire(self, slot: int) -> None:
        # Popped first: an item added again for this same (past) slot gets a new timer.
        for item in self._slots.pop(slot):
            try:
                self._due(item)
            except Exception:  # one item's failure must not keep the slot's others waiting
                log.exception("tick slot callback failed")
