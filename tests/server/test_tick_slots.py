"""Games due within the same few milliseconds share one loop timer, tick after tick, and
each still runs at (never before) its own deadline."""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from snaketron.engine.timing import tick_deadline_ms
from snaketron.tick_slots import TickSlots


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Periodic:
    """Items that tick every `period` ms from their first deadline, `rounds` times, and
    note the clock each time they run."""

    def __init__(self, period: int, rounds: int, clock: Callable[[], int] = _now_ms) -> None:
        self.period = period
        self.rounds = rounds
        self.clock = clock
        self.deadlines: dict[str, int] = {}
        self.ran: list[tuple[str, int, int]] = []  # (item, its deadline, the clock when it ran)
        self.done = asyncio.Event()
        self.finished: set[str] = set()

    def due(self, item: str) -> int | None:
        deadline = self.deadlines[item]
        self.ran.append((item, deadline, self.clock()))
        if sum(1 for name, _, _ in self.ran if name == item) == self.rounds:
            self.finished.add(item)
            if self.finished == set(self.deadlines):
                self.done.set()
            return None
        self.deadlines[item] = deadline + self.period
        return self.deadlines[item]


async def test_items_due_in_one_slot_share_one_timer_at_every_tick_and_run_in_order() -> None:
    items = Periodic(period=30, rounds=3)
    slots: TickSlots[str] = TickSlots(items.due, _now_ms, slot_ms=10)
    now = _now_ms()
    base = (now // 10 + 3) * 10  # a slot boundary 20-30 ms ahead
    for name, deadline in (("a", base - 9), ("b", base), ("c", base - 1)):  # all round up to `base`
        items.deadlines[name] = deadline
        slots.add(name, deadline, 30, now)
    items.deadlines["later"] = base + 1  # the next slot
    slots.add("later", base + 1, 30, now)
    assert slots.timers == 2 and len(slots) == 4
    await asyncio.wait_for(items.done.wait(), 2)
    # Each tick of the first three shared one timer: three rounds, three timers; the
    # fourth item's slot likewise.
    assert slots.timers == 6 and len(slots) == 0
    first_three = [name for name, _, _ in items.ran if name != "later"]
    assert first_three == ["a", "b", "c"] * 3
    for name, deadline, ran_at in items.ran:
        # Never before its deadline (the loop may wake a hair early).
        assert ran_at >= deadline - 2, (name, deadline, ran_at)


async def test_an_item_whose_next_deadline_is_not_one_period_on_is_slotted_on_its_own() -> None:
    ran: list[tuple[str, int]] = []
    done = asyncio.Event()
    now = _now_ms()
    start = now + 5
    plan = {  # item -> the deadlines it returns, one per run
        "steady": [start + 20, start + 40, None],
        # Woken "early" once (its tick was not computable yet): the same deadline again.
        "early": [start, start + 20, start + 40, None],
        "skips": [start + 60, None],  # its next tick lies two periods on
    }

    def due(item: str) -> int | None:
        ran.append((item, _now_ms()))
        following = plan[item].pop(0)
        if all(not left for left in plan.values()):
            done.set()
        return following

    slots: TickSlots[str] = TickSlots(due, _now_ms, slot_ms=1)
    for item in plan:
        slots.add(item, start, 20, now)
    await asyncio.wait_for(done.wait(), 2)
    assert [item for item, _ in ran].count("early") == 4
    skips_second = [at for item, at in ran if item == "skips"][1]
    assert skips_second >= start + 60 - 2
    assert len(slots) == 0


async def test_a_cohort_woken_late_runs_each_item_next_at_the_deadline_it_returned() -> None:
    clock = [_now_ms()]
    begin = clock[0]
    calls: list[int] = []
    done = asyncio.Event()

    def due(item: str) -> int | None:
        calls.append(clock[0])
        if len(calls) == 1:
            return begin + 300  # computed every tick due by the late wake-up
        done.set()
        return None

    slots: TickSlots[str] = TickSlots(due, lambda: clock[0], slot_ms=2)
    slots.add("room", begin, 100, begin)
    clock[0] = begin + 250  # the loop was busy: 2.5 periods go by before the timer fires
    await asyncio.wait_for(done.wait(), 2)
    assert calls == [begin + 250, begin + 250] and slots.timers == 2 and len(slots) == 0


async def test_the_next_wake_up_counts_from_after_the_cohort_ran() -> None:
    # The items' tick took the whole period (the clock is the test's): the next one is
    # due at once. Counting from before they ran would wait a whole period (10 s) more.
    clock = [_now_ms()]
    begin = clock[0]
    period = 10_000
    calls: list[int] = []
    done = asyncio.Event()

    def due(item: str) -> int | None:
        calls.append(clock[0])
        if len(calls) == 1:
            clock[0] += period + 500
            return begin + period
        done.set()
        return None

    slots: TickSlots[str] = TickSlots(due, lambda: clock[0], slot_ms=2)
    slots.add("room", begin, period, begin)
    await asyncio.wait_for(done.wait(), 5)
    assert len(calls) == 2


async def test_a_failing_item_does_not_keep_the_others_of_its_slot_waiting_and_is_dropped() -> None:
    ran: list[int] = []
    done = asyncio.Event()
    now = _now_ms()

    def due(item: int) -> int | None:
        ran.append(item)
        if item == 1:
            raise RuntimeError("a bug in one game")
        if ran.count(item) == 2:
            if item == 2:
                done.set()
            return None
        return now + 10

    slots: TickSlots[int] = TickSlots(due, _now_ms)
    for item in (0, 1, 2):
        slots.add(item, now, 10, now)
    await asyncio.wait_for(done.wait(), 2)
    assert ran == [0, 1, 2, 0, 2]


@pytest.mark.parametrize("late_by_ms", [1, 250])
async def test_an_item_added_for_a_past_deadline_runs_at_once(late_by_ms: int) -> None:
    done = asyncio.Event()

    def due(_item: str) -> None:
        done.set()

    slots: TickSlots[str] = TickSlots(due, _now_ms)
    now = _now_ms()
    slots.add("late", now - late_by_ms, 100, now)
    await asyncio.wait_for(done.wait(), 0.5)


def test_a_period_must_be_positive() -> None:
    slots: TickSlots[str] = TickSlots(lambda _item: None, _now_ms)
    with pytest.raises(ValueError, match="positive"):
        slots.add("never", 0, 0, 0)


class SimulatedLoop:
    """A loop and a clock of the test's own: timers fire in order of their time, each one
    late by a random amount (a busy loop) or a hair early, and every room's tick takes
    some time on the clock."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.now = 1_000_000.0
        self.timers: list[tuple[float, int, Callable[[tuple[int, int]], None], tuple[int, int]]] = []
        self.count = 0

    def clock_ms(self) -> int:
        return int(self.now)

    def call_later(self, delay_s: float, callback: Callable[[tuple[int, int]], None], key: tuple[int, int]) -> None:
        self.count += 1
        heapq.heappush(self.timers, (self.now + delay_s * 1000, self.count, callback, key))

    def run(self, after_each: Callable[[], None]) -> None:
        while self.timers:
            when, _, callback, key = heapq.heappop(self.timers)
            self.now = max(self.now, when + self.random.choice([0, 0, 0, 0.4, 5, 40, 250, -0.9]))
            callback(key)
            after_each()


@dataclass
class SimulatedRoom:
    """A game computed as Room.tick computes it: every tick whose deadline has passed."""

    start_ms: int
    tick_ms: int
    ticks: int
    tick: int = 0

    def deadline(self) -> int:
        return tick_deadline_ms(self.tick, self.start_ms, self.tick_ms)


@pytest.mark.parametrize("seed", range(20))
def test_simulated_rooms_tick_once_each_never_early_and_none_is_lost(seed: int) -> None:
    loop = SimulatedLoop(seed)
    rooms: dict[int, SimulatedRoom] = {}
    ran: list[tuple[int, int, int, int]] = []  # (room, tick, its deadline, when it ran)

    def tick(number: int) -> int | None:
        room = rooms[number]
        now = loop.clock_ms()
        # Woken at its deadline or later (a timer may fire a hair early: under 1 ms).
        assert now >= room.deadline() - 1, (number, room.deadline(), now)
        while room.deadline() <= now and room.tick < room.ticks:
            ran.append((number, room.tick, room.deadline(), now))
            room.tick += 1
        loop.now += loop.random.choice([0.05, 0.05, 0.3, 3])  # what the tick took
        return None if room.tick >= room.ticks else room.deadline()

    slots: TickSlots[int] = TickSlots(tick, loop.clock_ms, call_later=loop.call_later)
    for number in range(60):
        room = SimulatedRoom(
            start_ms=loop.clock_ms() + loop.random.randrange(0, 300),
            tick_ms=loop.random.choice([30, 33, 50, 99, 100, 100, 100, 257]),  # custom lobbies' lengths too
            ticks=loop.random.randrange(5, 60),
        )
        rooms[number] = room
        slots.add(number, room.deadline(), room.tick_ms, loop.clock_ms())

    def each_room_waits_once() -> None:
        waiting = [number for cohort in slots._cohorts.values() for number in cohort]
        assert len(waiting) == len(set(waiting)), "a room waits in two cohorts"
        finished = {number for number, room in rooms.items() if room.tick >= room.ticks}
        assert set(waiting) | finished == set(rooms), "a room is no longer woken"

    loop.run(each_room_waits_once)
    assert all(room.tick == room.ticks for room in rooms.values())
    computed = [(number, tick) for number, tick, _, _ in ran]
    assert len(computed) == len(set(computed))  # no tick twice
    assert all(at >= deadline for _, _, deadline, at in ran)  # none before its deadline
