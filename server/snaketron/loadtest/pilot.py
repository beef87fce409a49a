"""Steering the local bots of one game, cheaply.

One pilot per game (not per bot) wakes just after a tick becomes committed
on the server (clock-synced), has the mirror compute the game up to there and,
for each local player, asks the engine how much open road its snake has ahead
(`Game.road_ahead`: a few cell lookups on the engine's own board, no copy of the
state). Only when a cell two steps ahead is blocked, or every `think_ticks`
ticks to go for food, does it run the engine's bot brain, on that same board
(`choose_direction_on_board`, ~10-20 µs: the same decision as `choose_direction`
on the wire state, which the pilot never builds; still the dearer part, so it runs rarely).
A turn is stamped with the next tick the server computes, so it takes effect
there, and goes out at once (sending awaits nothing).

A snake with open road ahead needs no look for a while: the pilot sleeps until
the nearest snake is within reach of an obstacle (at most MAX_SLEEP_TICKS, as
other snakes move too), which spares most wake-ups. A wake-up is a plain timer
callback on the event loop, not a task resumed from asyncio.sleep: thousands of
games wake several times a second each.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from snaketron.engine import Direction, Game
from snaketron.engine.bot import choose_direction_on_board
from snaketron.engine.timing import committed_tick, tick_deadline_ms
from snaketron.loadtest.mirror import GameMirror

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
    steer_until_ms: float  # server time after which the bot lets its snake crash
    unconfirmed_turn_at_ms: float  # local time of the last turn not yet scheduled (0: none)

    @property
    def clock_offset_ms(self) -> float: ...

    def send_turn(self, direction: Direction, tick: int) -> None: ...


class Pilot:
    def __init__(self, mirror: GameMirror, think_ticks: int) -> None:
        self.mirror = mirror
        self.think_ticks = think_ticks
        self.seats: dict[int, PilotSeat] = {}
        self._think_at: dict[int, int] = {}  # user id -> the tick of its next look for food
        self._timer: asyncio.TimerHandle | None = None  # the next wake-up
        self._give_up_at = 0.0
        self.steering = False  # between `begin` and the end of the game (or `stop`)
        self.thoughts = 0  # bot brain runs, for tests and profiles

    def add(self, seat: PilotSeat) -> None:
        self.seats[seat.user_id] = seat

    def remove(self, seat: PilotSeat) -> None:
        if self.seats.get(seat.user_id) is seat:
            del self.seats[seat.user_id]
        if not self.seats:
            self.stop()

    def begin(self) -> None:
        """The mirror holds a started game: steer until it is over (once; later calls do nothing)."""
        if self.steering or self._give_up_at or not self.seats:
            return
        self.steering = True
        self._give_up_at = time.monotonic() + MAX_PILOT_S
        self._wake()

    def stop(self) -> None:
        self.steering = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self) -> None:
        self._timer = None
        mirror = self.mirror
        base = mirror.base
        if not self.seats or base is None or mirror.is_complete or time.monotonic() > self._give_up_at:
            self.steering = False
            return
        offset = next(iter(self.seats.values())).clock_offset_ms
        server_now = time.time() * 1000 + offset
        tick_ms = base.properties.tick_duration_ms
        next_tick = committed_tick(int(server_now), base.start_ms, tick_ms) + 1
        sleep_ticks = 1
        if next_tick > 0:
            game = mirror.game_before(next_tick)
            if game is not None and not game.is_complete:
                sleep_ticks = self._steer(game, next_tick, server_now)
        if self.steering:  # a turn sent may have ended the bot's round
            wake_at = tick_deadline_ms(next_tick + sleep_ticks - 1, base.start_ms, tick_ms) + WAKE_MARGIN_MS
            self._timer = asyncio.get_running_loop().call_later(max(0.001, (wake_at - server_now) / 1000), self._wake)

    def _steer(self, game: Game, next_tick: int, server_now: float) -> int:
        """Send the turns due now; returns how many ticks the pilot may sleep."""
        sleep_ticks = MAX_SLEEP_TICKS
        local_now = time.time() * 1000
        for seat in list(self.seats.values()):
            if server_now > seat.steer_until_ms:
                continue
            if seat.unconfirmed_turn_at_ms and local_now - seat.unconfirmed_turn_at_ms < UNCONFIRMED_TURN_MS:
                continue
            snake_id = game.snake_of(seat.user_id)
            if snake_id is None:
                continue
            road = game.road_ahead(snake_id, LOOK_AHEAD_CELLS)
            if road is None:
                continue  # dead
            # Sleep while every snake has at least two free cells ahead when the pilot wakes.
            sleep_ticks = max(1, min(sleep_ticks, road - 2))
            think_at = self._think_at.get(seat.user_id, next_tick)
            thinking = self.think_ticks > 0 and next_tick >= think_at
            if thinking:
                self._think_at[seat.user_id] = next_tick + self.think_ticks
            if road > 2 and not thinking:
                continue
            self.thoughts += 1
            direction = choose_direction_on_board(game, snake_id)
            if direction is not None:
                seat.send_turn(direction, next_tick)
        return sleep_ticks


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
            pilot.stop()
        self._by_game.clear()
