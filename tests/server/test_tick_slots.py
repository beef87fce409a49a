"""Games due within the same few milliseconds share one loop timer, and each still runs."""

from __future__ import annotations

import asyncio
import time

import pytest

from snaketron.tick_slots import TickSlots


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


async def test_items_due_in_one_slot_share_a_timer_and_run_in_the_order_added() -> None:
    ran: list[str] = []
    done = asyncio.Event()

    def due(item: str) -> None:
        ran.append(item)
        if len(ran) == 4:
            done.set()

    slots: TickSlots[str] = TickSlots(due, slot_ms=10)
    now = _now_ms()
    base = (now // 10 + 3) * 10  # a slot boundary 20-30 ms ahead
    slots.add("a", base - 9, now)  # all three round up to `base`
    slots.add("b", base, now)
    slots.add("c", base - 1, now)
    slots.add("later", base + 1, now)  # the next slot
    assert slots.timers == 2 and len(slots) == 4
    await asyncio.wait_for(done.wait(), 2)
    assert ran == ["a", "b", "c", "later"]
    assert _now_ms() >= base + 10 - 2  # nothing ran before its slot (the loop may wake a hair early)
    assert len(slots) == 0


async def test_a_failing_item_does_not_keep_the_others_of_its_slot_waiting() -> None:
    ran: list[int] = []
    done = asyncio.Event()

    def due(item: int) -> None:
        if item == 1:
            raise RuntimeError("a bug in one game")
        ran.append(item)
        if item == 2:
            done.set()

    slots: TickSlots[int] = TickSlots(due)
    now = _now_ms()
    for item in (0, 1, 2):
        slots.add(item, now, now)
    await asyncio.wait_for(done.wait(), 2)
    assert ran == [0, 2]


@pytest.mark.parametrize("late_by_ms", [1, 250])
async def test_an_item_added_for_a_past_deadline_runs_at_once(late_by_ms: int) -> None:
    done = asyncio.Event()
    slots: TickSlots[str] = TickSlots(lambda _item: done.set())
    now = _now_ms()
    slots.add("late", now - late_by_ms, now)
    await asyncio.wait_for(done.wait(), 0.5)
