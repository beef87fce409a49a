"""One event-loop timer for all the games whose ticks fall due together, for as long
as they keep ticking.

Each hosted game ticks 10 times a second. With a timer of its own, a host of
1,400 duels puts 14,000 `call_later` handles a second through the loop's timer
heap, and each fires a callback of its own: a sixth of the host's busy time in
the capacity benchmark. Games need not be woken to the millisecond, so their
deadlines are rounded up to a grid of `slot_ms` and the games due in one slot
share one timer, which runs them in the order they were added.

A game's deadlines are evenly spaced (`start + k * tick_ms`), so the games that
share a slot once share one at every later tick too: a slot's games form a
cohort that fires again one period later with every member whose next deadline
(what its callback returns) falls in that next slot, at the cost of two
comparisons per game instead of a slot lookup and a timer check. A member's
later deadlines keep the offset of its first one from the slot's time, so each
tick still runs at most `slot_ms - 1` ms after its deadline: the game's own
lateness figures count that, and it is small next to the 50 ms delivery budget.
A cohort woken late (the loop was busy) moves past the periods already gone: its
members computed every tick due by then. A member with any other next deadline
(woken a hair early, say) is slotted on its own, as when added.
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
    """Call `due(item)` at (or just after) an item's deadline; `due` returns the item's
    next deadline (None: done). An item whose next deadline is one period after the
    last stays in its cohort at no cost; any other deadline (a game woken early, or one
    whose tick ran past its next deadline) is slotted on its own, as when added."""

    def __init__(
        self,
        due: Callable[[Item], int | None],
        clock_ms: Callable[[], int],
        *,
        slot_ms: int = TICK_SLOT_MS,
        call_later: Callable[[float, Callable[[tuple[int, int]], None], tuple[int, int]], object] | None = None,
    ) -> None:
        self._due = due
        self._clock_ms = clock_ms
        # How a slot's timer is set (delay in seconds, callback, its argument); the running
        # event loop's `call_later` unless given (a simulated loop, in tests).
        self._call_later = call_later
        self.slot_ms = slot_ms
        # (slot's time on the clock, period) -> the items it wakes, in the order added
        self._cohorts: dict[tuple[int, int], list[Item]] = {}
        self.timers = 0  # timers set so far, for tests and benchmarks

    def add(self, item: Item, deadline_ms: int, period_ms: int, now_ms: int) -> None:
        """Run `item` at the first slot at or after `deadline_ms`, then at the deadlines
        it returns, expected every `period_ms` (times on the constructor's clock)."""
        if period_ms <= 0:
            raise ValueError(f"a tick period must be positive, not {period_ms} ms")
        self._join((self._slot_of(deadline_ms), period_ms), [item], now_ms)

    def __len__(self) -> int:
        return sum(len(items) for items in self._cohorts.values())

    def _slot_of(self, deadline_ms: int) -> int:
        return -(-deadline_ms // self.slot_ms) * self.slot_ms

    def _join(self, key: tuple[int, int], items: list[Item], now_ms: int) -> None:
        waiting = self._cohorts.get(key)
        if waiting is not None:
            waiting.extend(items)
            return
        self._cohorts[key] = items
        self.timers += 1
        call_later = self._call_later or asyncio.get_running_loop().call_later
        call_later(max(0.0, (key[0] - now_ms) / 1000), self._fire, key)

    def _fire(self, key: tuple[int, int]) -> None:
        # Popped first: an item added meanwhile for this same (past) slot gets a new timer.
        items = self._cohorts.pop(key)
        slot, period = key
        now = self._clock_ms()
        following = slot + period
        if following <= now:  # woken late: the items compute every tick due by now
            following += ((now - following) // period + 1) * period
        lowest = following - self.slot_ms  # deadlines in (lowest, following] stay
        due = self._due
        staying: list[Item] = []
        strays: list[tuple[Item, int]] = []
        for item in items:
            try:
                deadline = due(item)
            except Exception:  # one item's failure must not keep its cohort's others waiting
                log.exception("tick slot callback failed; the item is no longer woken")
                continue
            if deadline is None:
                continue
            if lowest < deadline <= following:
                staying.append(item)
            else:
                strays.append((item, deadline))
        # The clock again: the next timers count from now, after the items ran (a slow
        # cohort would otherwise wake that much late at every later tick).
        now = self._clock_ms()
        if staying:
            self._join((following, period), staying, now)
        for item, deadline in strays:
            self._join((self._slot_of(deadline), period), [item], now)
