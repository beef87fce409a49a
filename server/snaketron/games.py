"""Hosting rooms: the factory of solo, lobby and matched rooms, tick scheduling, load.

`Rooms` holds every `Room` this process hosts (see `rooms.room`: a room owns its
game's life). Each started room is woken when its next tick becomes computable
(the committed state runs 5 ticks behind real time, see `engine.timing`); rooms
due within the same 2 ms share one loop timer (`TickSlots`), tick after tick. The wake-up is
synchronous: the room advances its engine, encodes each event once and pushes the
same bytes to every member. Nothing on that path awaits; persistence is handed to
`GamePersistence`, which queues it to the batch writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from snaketron.db.models import GamePlayerRecord, GameRecord, MatchTicket, RatingUpdate, SpectatorRecord
from snaketron.engine import SOLO_GAME_TYPE, CustomGameSettings, Game, GameType, type_custom
from snaketron.engine.timing import tick_deadline_ms
from snaketron.histograms import TickTimings
from snaketron.leaderboard.seasons import season_at
from snaketron.logs import get_logger
from snaketron.rating import RatingCopy
from snaketron.rooms.ports import Member, RoomListener
from snaketron.rooms.ratings import RatedSeats
from snaketron.rooms.result import GameResult, RoomKind
from snaketron.rooms.room import Role, Room
from snaketron.tasks import BackgroundTasks
from snaketron.tick_slots import TickSlots

log = get_logger(__name__)

GameKind = RoomKind
__all__ = ["GameKind", "GamePersistence", "HostStats", "Member", "Role", "Room", "RoomListener", "Rooms"]

# How long a finished game stays in memory so late joiners get its final state.
FINISHED_GAME_LINGER_S = 30.0
# Unfinished games (solo, lobbies waiting or running, matched) one user may be seated in
# here at once: enough to play, sit in a lobby and keep a game they left, too few for one
# account to hold SNAKETRON_MAX_GAMES (a game a player left runs on until it ends).
MAX_SEATS_PER_USER = 3


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def new_seed() -> int:
    """A fresh RNG seed for a game (never zero, which the RNG would replace)."""
    return secrets.randbits(63) | 1


class GamePersistence(Protocol):
    """Where rooms send what they write: values, never the room. `save_game`,
    `spectator_added`, `player_removed` and `game_discarded` return at once (queued);
    `record_result` writes a finished game, its player rows and its ratings together and
    says whether that landed."""

    def save_game(self, game: GameRecord, players: Sequence[GamePlayerRecord]) -> None: ...
    def spectator_added(self, spectator: SpectatorRecord) -> None: ...
    def player_removed(self, game_id: int, user_id: int) -> None: ...
    def game_discarded(self, game_id: int, player_ids: Sequence[int], spectator_ids: Sequence[int]) -> None: ...
    async def record_result(
        self,
        game: GameRecord,
        players: Sequence[GamePlayerRecord],
        ratings: Sequence[RatingUpdate],
        result: GameResult | None = None,
    ) -> bool: ...
    async def read_ratings(self, user_ids: Sequence[int]) -> dict[int, RatingCopy]: ...
    def known_rating(self, user_id: int) -> RatingCopy | None: ...


@dataclass
class HostStats:
    ticks: int = 0
    events: int = 0
    frames_sent: int = 0
    bytes_sent: int = 0  # payload bytes of those frames
    writes: int = 0  # transport writes of game events: a tick's frames go out in one
    late_ticks: int = 0  # ticks computed more than one tick length after they were due
    max_lateness_ms: int = 0
    games_finished: int = 0  # ended by the rules or abandoned


class Rooms:
    """Every room hosted by this process, the factory that makes them, and the timers
    that tick them."""

    def __init__(
        self,
        persistence: GamePersistence,
        tasks: BackgroundTasks,
        *,
        listeners: Iterable[RoomListener] = (),
        server_id: int = 0,
        region: str = "",
        season_months: int = 1,
        clock_ms: Callable[[], int] = wall_clock_ms,
        max_games: int = 0,
    ) -> None:
        self.persistence = persistence
        # SNAKETRON_MAX_GAMES: games started by players here (solo, lobbies) are refused
        # beyond it (`has_room`); 0: no limit (tests, benchmarks of the engine).
        self.max_games = max_games
        self._being_made = 0  # games with a place held under the cap (`reserving`)
        self.tasks = tasks  # each finished room's result write runs here (shutdown waits)
        # Told of every room's start, result and end (leaderboards and replays: one more
        # entry here where the server is composed).
        self.listeners: list[RoomListener] = list(listeners)
        # The clock itself, not a method around it: every tick of every room reads it.
        self.now_ms: Callable[[], int] = clock_ms
        self.server_id = server_id
        self.region = region
        self.season_months = season_months  # a rated game's season decides a soft reset
        self.games: dict[int, Room] = {}
        # The rooms not finished yet, kept apart so that asking for the load (every game
        # placed, every heartbeat) never walks the finished ones that linger.
        self._running: dict[int, Room] = {}
        # user id -> the unfinished rooms that seat them (the one running solo game of a
        # user is among them; those that still hold them count for MAX_SEATS_PER_USER).
        self._seats: dict[int, set[Room]] = {}
        self.stats = HostStats()
        self.tick_timings: TickTimings | None = None  # set when metrics are served
        # Every started room waits here for its next tick, woken with those due together.
        self.tick_slots: TickSlots[Room] = TickSlots(Room.tick, clock_ms)
        self._all_finished = asyncio.Event()
        self._all_finished.set()

    def subscribe(self, listener: RoomListener) -> None:
        """Follow every room (services built on the rooms subscribe in their constructor)."""
        self.listeners.append(listener)

    def season_of(self, ms: int) -> str:
        """The id of the season containing `ms`, as the leaderboards name it."""
        return season_at(ms, self.season_months).id

    # --- the factory: solo, lobby and matched rooms ------------------------------------
    def open_solo(self, game_id: int, user_id: int, username: str) -> Room:
        """A Custom game of mode Solo, private and closed to spectators, as the original
        server made it (clients recognise a solo game only in that form), started at
        once: the client's JoinGame gets a Snapshot of where it is."""
        game = Game(game_id, SOLO_GAME_TYPE, seed=new_seed(), server_id=self.server_id)
        game.add_player(user_id, username)
        # The newest solo game of a user wins: an earlier one still running (left, never
        # joined, or on another tab) is abandoned, as a single-player game restarted. So
        # repeated CreateSoloGame keeps one game running, not one per message.
        earlier = self._running_solo_of(user_id)
        if earlier is not None:
            earlier.abandon()
        room = self._add(Room(self, game, "solo", created_at_ms=self.now_ms(), is_private=True, allow_spectators=False))
        room.start()
        return room

    def open_lobby(
        self, game_id: int, settings: CustomGameSettings, code: str, host_user_id: int, username: str, now_ms: int
    ) -> Room:
        """A custom lobby with its host seated; it starts when its host says so."""
        game = self.lobby_game(game_id, settings, code, host_user_id, now_ms)
        game.add_player(host_user_id, username)
        return self._add(
            Room(
                self,
                game,
                "custom",
                created_at_ms=now_ms,
                is_private=settings.is_private,
                allow_spectators=settings.allow_spectators,
                game_code=code,
            )
        )

    def lobby_game(
        self, game_id: int, settings: CustomGameSettings, code: str, host_user_id: int | None, created_at_ms: int
    ) -> Game:
        game = Game(
            game_id,
            type_custom(settings),
            seed=new_seed(),
            tick_ms=settings.tick_duration_ms,
            server_id=self.server_id,
            game_code=code,
            host_user_id=host_user_id,
        )
        # Until the start sets it, a lobby's start_ms is its creation time, as the original
        # server's: clients that predict from start_ms walk every tick since it, and from
        # 0 that is every tick since 1970.
        game.start_ms = created_at_ms
        return game

    def open_match(self, game_id: int, game_type: GameType, tickets: Sequence[MatchTicket], start_ms: int) -> Room:
        """A matched room, rated from its tickets, started with tick 0 at `start_ms`."""
        game = Game(game_id, game_type, seed=new_seed(), server_id=self.server_id)
        for ticket in tickets:
            game.add_player(ticket.user_id, ticket.username)
        room = self._add(Room(self, game, "matchmaking", created_at_ms=self.now_ms(), rated=RatedSeats.of(tickets)))
        room.start(start_ms)
        return room

    def _add(self, room: Room) -> Room:
        self.games[room.game_id] = room
        self._running[room.game_id] = room
        self._all_finished.clear()
        for user_id in room.game.players:
            self.seated(room, user_id)
        room.saved(players=True)
        return room

    # --- seats per user ------------------------------------------------------------------
    def seated(self, room: Room, user_id: int) -> None:
        self._seats.setdefault(user_id, set()).add(room)

    def unseated(self, room: Room, user_id: int) -> None:
        rooms = self._seats.get(user_id)
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._seats[user_id]

    def seating(self, user_id: int) -> Collection[Room]:
        """The unfinished rooms here that seat this user."""
        return self._seats.get(user_id, ())

    def _running_solo_of(self, user_id: int) -> Room | None:
        return next((room for room in self.seating(user_id) if room.kind == "solo"), None)

    def has_seat_for(self, user_id: int, *, solo: bool = False) -> bool:
        """Whether the user may take one more seat here (MAX_SEATS_PER_USER): the
        unfinished games that still hold them (`Room.holds`) are fewer. A new solo game
        replaces their running one (`open_solo`), so that one does not count then."""
        held = sum(1 for room in self.seating(user_id) if not (solo and room.kind == "solo") and room.holds(user_id))
        return held < MAX_SEATS_PER_USER

    def get(self, game_id: int) -> Room | None:
        return self.games.get(game_id)

    # --- what rooms ask of their host ------------------------------------------------------
    def schedule(self, room: Room) -> None:
        """Wake a started room for its next tick, and then at each deadline its tick
        returns (`Room.tick`), until the game is over."""
        game = room.game
        deadline = tick_deadline_ms(game.tick, game.start_ms, game.tick_ms)
        self.tick_slots.add(room, deadline, game.tick_ms, self.now_ms())

    def room_finished(self, room: Room) -> None:
        self.stats.games_finished += 1
        self._running.pop(room.game_id, None)
        for user_id in room.game.players:
            self.unseated(room, user_id)
        # Late joiners get the final state while the room lingers.
        asyncio.get_running_loop().call_later(FINISHED_GAME_LINGER_S, room.dispose)
        if not self._running:
            self._all_finished.set()

    def room_disposed(self, room: Room) -> None:
        if self.games.get(room.game_id) is room:
            del self.games[room.game_id]
        self._running.pop(room.game_id, None)
        for user_id in room.game.players:  # a lobby closed before its start
            self.unseated(room, user_id)
        if not self._running:
            self._all_finished.set()

    async def wait_result(self, game_id: int, timeout_s: float) -> None:
        """Wait until a finished room's result (and ratings) are written and announced."""
        room = self.games.get(game_id)
        if room is not None:
            await room.wait_result(timeout_s)

    # --- load and shutdown ------------------------------------------------------------
    def running_games(self) -> list[Room]:
        return list(self._running.values())

    def running_game_count(self) -> int:
        return len(self._running)

    def has_room(self) -> bool:
        """Whether one more game fits under SNAKETRON_MAX_GAMES (games being made count)."""
        return self.max_games <= 0 or len(self._running) + self._being_made < self.max_games

    @contextlib.contextmanager
    def reserving(self) -> Iterator[bool]:
        """Hold a place under SNAKETRON_MAX_GAMES while a game is made (its id drawn, its
        lobby written: awaits), so that creations running at once cannot all pass one
        check and overshoot the cap. Yields whether there was room; the place is given
        back on leaving, by then taken by the opened room (or not needed)."""
        if not self.has_room():
            yield False
            return
        self._being_made += 1
        try:
            yield True
        finally:
            self._being_made -= 1

    def player_count(self) -> int:
        return sum(r.game.player_count for r in self._running.values())

    async def wait_all_finished(self, timeout_s: float) -> bool:
        """Wait (up to `timeout_s`) until no hosted game is running. True when none is."""
        if not self._running:
            return True
        try:
            await asyncio.wait_for(self._all_finished.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def abandon_all(self) -> list[Room]:
        """Stop every running room now (drain deadline passed, or stopping)."""
        stopped = self.running_games()
        for room in stopped:
            room.abandon()
        return stopped
