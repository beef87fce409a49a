"""Steering the local bots of one game, cheaply.

One pilot task per game (not per bot) wakes just after a tick becomes committed
on the server (clock-synced), takes the mirror's board and, for each local
player, looks along its heading. Only when a cell two steps ahead is blocked, or
every `think_ticks` ticks to go for food, does it run the engine's bot brain
(`choose_direction`, ~0.1 ms: the expensive part, so it runs rarely). A turn is
stamped with the next tick the server computes, so it takes effect there.

A snake with open road ahead needs no look for a while: the pilot sleeps until
the nearest snake is within reach of an obstacle (at most MAX_SLEEP_TICKS, as
other snakes move too), which spares most wake-ups and board rebuilds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from snaketron.engine import Direction, Position
from snaketron.engine.bot import choose_direction
from snaketron.engine.timing import committed_tick, tick_deadline_ms
from snaketron.loadtest.mirror import BoardView, GameMirror

# Wake this long after a tick's deadline, so its events have usually arrived.
WAKE_MARGIN_MS = 8
# A turn not yet confirmed by its CommandScheduled is not followed by another for this long.
UNCONFIRMED_TURN_MS = 1_000
# Cells looked at along a heading, and the most ticks a pilot sleeps on open road.
LOOK_AHEAD_CELLS = 8
MAX_SLEEP_TICKS = 3
# Bound on one pilot's life: no game runs longer than this.
MAX_PILOT_S = 3_600


class PilotSeat(Protocol):
    """A local bot playing in the piloted game."""

    user_id: int
    clock_offset_ms: float
    steer_until_ms: float  # server time after which the bot lets its snake crash
    unconfirmed_turn_at_ms: float  # local time of the last turn not yet scheduled (0: none)

    async def send_turn(self, direction: Direction, tick: int) -> None: ...


class Pilot:
    def __init__(self, mirror: GameMirror, think_ticks: int) -> None:
        self.mirror = mirror
        self.think_ticks = think_ticks
        self.seats: dict[int, PilotSeat] = {}
        self.started = asyncio.Event()  # set once the mirror holds a started game
        self._think_at: dict[int, int] = {}  # user id -> the tick of its next look for food
        self.task: asyncio.Task[None] | None = None

    def add(self, seat: PilotSeat) -> None:
        self.seats[seat.user_id] = seat
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, seat: PilotSeat) -> None:
        if self.seats.get(seat.user_id) is seat:
            del self.seats[seat.user_id]
        if not self.seats and self.task is not None:
            self.task.cancel()

    async def _run(self) -> None:
        give_up_at = time.monotonic() + MAX_PILOT_S
        await self.started.wait()
        while self.seats and not self.mirror.is_complete and time.monotonic() < give_up_at:
            base = self.mirror.base
            assert base is not None
            offset = next(iter(self.seats.values())).clock_offset_ms
            server_now = time.time() * 1000 + offset
            tick_ms = base.properties.tick_duration_ms
            next_tick = committed_tick(int(server_now), base.start_ms, tick_ms) + 1
            sleep_ticks = 1
            if next_tick > 0:
                view = self.mirror.view(next_tick)
                if view is not None:
                    turns, sleep_ticks = self._steer(view, next_tick, server_now)
                    for seat, direction in turns:
                        await seat.send_turn(direction, next_tick)
            wake_at = tick_deadline_ms(next_tick + sleep_ticks - 1, base.start_ms, tick_ms) + WAKE_MARGIN_MS
            await asyncio.sleep(max(0.001, (wake_at - server_now) / 1000))

    def _steer(
        self, view: BoardView, next_tick: int, server_now: float
    ) -> tuple[list[tuple[PilotSeat, Direction]], int]:
        """The turns to send now, and how many ticks the pilot may sleep."""
        turns: list[tuple[PilotSeat, Direction]] = []
        sleep_ticks = MAX_SLEEP_TICKS
        state = view.state
        arena = state.arena
        local_now = time.time() * 1000
        for seat in list(self.seats.values()):
            if server_now > seat.steer_until_ms:
                continue
            if seat.unconfirmed_turn_at_ms and local_now - seat.unconfirmed_turn_at_ms < UNCONFIRMED_TURN_MS:
                continue
            entry = state.players.get(seat.user_id)
            if entry is None or entry.snake_id >= len(arena.snakes):
                continue
            snake = arena.snakes[entry.snake_id]
            if not snake.is_alive:
                continue
            road = _open_road(view, snake.body[0], snake.direction)
            # Sleep while every snake has at least two free cells ahead when the pilot wakes.
            sleep_ticks = max(1, min(sleep_ticks, road - 2))
            think_at = self._think_at.get(seat.user_id, next_tick)
            thinking = self.think_ticks > 0 and next_tick >= think_at
            if thinking:
                self._think_at[seat.user_id] = next_tick + self.think_ticks
            if road > 2 and not thinking:
                continue
            direction = choose_direction(state, entry.snake_id)
            if direction is not None:
                turns.append((seat, direction))
        return turns, sleep_ticks


def _open_road(view: BoardView, head: Position, heading: Direction) -> int:
    """Free cells straight ahead of a head, counted up to LOOK_AHEAD_CELLS."""
    arena = view.state.arena
    dx, dy = heading.delta
    x, y = head.x, head.y
    for step in range(LOOK_AHEAD_CELLS):
        x += dx
        y += dy
        if not (0 <= x < arena.width and 0 <= y < arena.height) or (x, y) in view.blocked:
            return step
    return LOOK_AHEAD_CELLS


class Pilots:
    """The mirror and pilot of every game local bots play in."""

    def __init__(self, think_ticks: int) -> None:
        self.think_ticks = think_ticks
        self._by_game: dict[int, Pilot] = {}

    def get(self, game_id: int) -> Pilot | None:
        return self._by_game.get(game_id)

    def join(self, game_id: int, seat: PilotSeat) -> Pilot:
        pilot = self._by_game.get(game_id)
        if pilot is None:
            pilot = self._by_game[game_id] = Pilot(GameMirror(game_id), self.think_ticks)
        pilot.add(seat)
        return pilot

    def leave(self, game_id: int, seat: PilotSeat) -> None:
        pilot = self._by_game.get(game_id)
        if pilot is None:
            return
        pilot.remove(seat)
        if not pilot.seats:
            del self._by_game[game_id]

    def cancel_all(self) -> None:
        for pilot in self._by_game.values():
            if pilot.task is not None:
                pilot.task.cancel()
        self._by_game.clear()
