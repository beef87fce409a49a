"""A room's tick keeps the host's books (ticks, late ticks, the worst lateness, the
tick timings) and says when its next tick is due, so its tick slot wakes it then. A host on the real
endpoint with a clock the test moves; the test calls the ticks itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.models import MatchTicket
from snaketron.engine.timing import tick_deadline_ms
from snaketron.engine.types import type_team_match
from snaketron.games import Room, Rooms
from snaketron.histograms import TickTimings
from snaketron.persistence import GameRecorder
from snaketron.tasks import BackgroundTasks

START_MS = 1_700_000_000_000


@dataclass
class SetClock:
    now_ms: int = START_MS

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
async def host(db: DynamoDatabase) -> AsyncIterator[tuple[Rooms, SetClock]]:
    clock = SetClock()
    tasks = BackgroundTasks()
    rooms = Rooms(GameRecorder(db), tasks, clock_ms=clock)
    rooms.tick_timings = TickTimings()
    yield rooms, clock
    for room in list(rooms.games.values()):
        room.dispose()
    await tasks.wait(5)


def _duel(rooms: Rooms, game_id: int) -> Room:
    tickets = [
        MatchTicket(region="", queue_key="team1", user_id=u, username=f"p{u}", mmr=1000, server_id=0, enqueued_at_ms=0)
        for u in (2 * game_id, 2 * game_id + 1)
    ]
    return rooms.open_match(game_id, type_team_match(1), tickets, START_MS)


def _due(room: Room) -> int:
    game = room.game
    return tick_deadline_ms(game.tick, game.start_ms, game.tick_ms)


def _timings_count(rooms: Rooms) -> int:
    assert rooms.tick_timings is not None
    return sum(rooms.tick_timings.lateness_ms)


async def test_ticks_on_time_and_late_are_counted_and_the_worst_lateness_kept(host) -> None:
    rooms, clock = host
    first, second = _duel(rooms, 1), _duel(rooms, 2)

    clock.now_ms = _due(first)  # on time: tick 0 is computed
    following = first.tick()
    assert first.game.tick == 1 and rooms.stats.ticks == 1
    assert rooms.stats.late_ticks == 0 and first.max_lateness_ms == 0
    assert following == _due(first) == clock.now_ms + 100  # woken again for tick 1, a tick on

    # Woken a hair early (nothing computable yet): the same deadline again.
    clock.now_ms = _due(first) - 1
    assert first.tick() == _due(first) and first.game.tick == 1

    clock.now_ms = _due(first) + 250  # more than a tick late: counted, and the worst so far
    following = first.tick()
    assert following is not None and clock.now_ms < following <= clock.now_ms + 100  # the ticks due by now computed
    assert rooms.stats.late_ticks == 1
    assert first.max_lateness_ms == 250 and rooms.stats.max_lateness_ms == 250

    # Another room, less late: its own worst rises, the host's stays the worst of all.
    clock.now_ms = _due(second) + 40
    second.tick()
    assert second.max_lateness_ms == 40 and rooms.stats.max_lateness_ms == 250
    assert rooms.stats.late_ticks == 1  # 40 ms is within a tick

    # Late by more than a tick, but not a new worst for the room: still a late tick.
    clock.now_ms = _due(first) + 150
    first.tick()
    assert rooms.stats.late_ticks == 2 and first.max_lateness_ms == 250
    assert _timings_count(rooms) == 5
    assert rooms.stats.ticks == first.game.tick + second.game.tick


async def test_a_finished_room_neither_ticks_nor_wakes_again(host) -> None:
    rooms, clock = host
    room = _duel(rooms, 3)
    room.abandon()
    counted = rooms.stats.ticks
    clock.now_ms = _due(room) + 1000
    assert room.tick() is None  # not woken again
    assert rooms.stats.ticks == counted
    assert _timings_count(rooms) == 0
