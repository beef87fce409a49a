"""Hosting running games: tick scheduling, members, fan-out and persistence hooks.

`GameHost` owns every game this process hosts. Each started game is woken when
its next tick becomes computable (the committed state runs 5 ticks behind real
time, see `engine.timing`); games due within the same 2 ms share one loop timer
(`TickSlots`). The wake-up is synchronous: it advances the engine, encodes each
event once and pushes the same bytes to every member. Nothing on that path
awaits; persistence is handed to `GamePersistence`, which queues it to the batch
writer.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from snaketron import protocol
from snaketron.engine import Game
from snaketron.engine.timing import committed_tick, tick_deadline_ms
from snaketron.fanout import Outbox, send_to_all
from snaketron.histograms import TickTimings
from snaketron.logs import get_logger
from snaketron.tick_slots import TickSlots

log = get_logger(__name__)

GameKind = Literal["solo", "custom", "matchmaking"]
Role = Literal["player", "spectator"]

# How long a finished game stays in memory so late joiners get its final state.
FINISHED_GAME_LINGER_S = 30.0


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def new_seed() -> int:
    """A fresh RNG seed for a game (never zero, which the RNG would replace)."""
    return secrets.randbits(63) | 1


class Member(Protocol):
    """A connection that receives a game's events (player or spectator)."""

    user_id: int
    outbox: Outbox


class GamePersistence(Protocol):
    """What the host tells the data layer. Every call returns at once; writes are queued."""

    def game_created(self, hosted: HostedGame) -> None: ...
    def players_changed(self, hosted: HostedGame) -> None: ...
    def spectator_added(self, hosted: HostedGame, user_id: int) -> None: ...
    def game_started(self, hosted: HostedGame) -> None: ...
    def game_finished(self, hosted: HostedGame) -> None: ...


@dataclass(eq=False)
class HostedGame:
    """One game on this host, with who watches it and how it came to be."""

    game: Game
    kind: GameKind
    is_private: bool = False
    allow_spectators: bool = True
    game_code: str | None = None
    created_at_ms: int = 0
    members: dict[Member, Role] = field(default_factory=dict)
    spectator_ids: set[int] = field(default_factory=set)
    finished: bool = False
    abandoned: bool = False  # ended by the host going away, not by the rules
    # Called once when the game completes (matchmaking records ratings with it).
    on_finish: list[Callable[[HostedGame], None]] = field(default_factory=list)
    # Called once when the host forgets the finished game (its linger is over).
    on_forget: list[Callable[[HostedGame], None]] = field(default_factory=list)
    max_lateness_ms: int = 0
    ended_at_ms: int = 0
    joined_at_ms: dict[int, int] = field(default_factory=dict)  # user id -> when seated
    mmr_before: dict[int, int] = field(default_factory=dict)  # matchmade games: ratings
    mmr_after: dict[int, int] = field(default_factory=dict)

    @property
    def game_id(self) -> int:
        return self.game.game_id

    def outboxes(self) -> Iterable[Outbox]:
        return (m.outbox for m in self.members)

    def is_player(self, user_id: int) -> bool:
        return self.game.snake_of(user_id) is not None


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


class GameHost:
    """Every game hosted by this process, and the timers that tick them."""

    def __init__(
        self,
        persistence: GamePersistence,
        *,
        server_id: int = 0,
        clock_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.persistence = persistence
        self._clock_ms = clock_ms
        self.server_id = server_id
        self.games: dict[int, HostedGame] = {}
        # The games not finished yet, kept apart so that asking for the load (every game
        # placed, every heartbeat) never walks the finished ones that linger.
        self._running: dict[int, HostedGame] = {}
        self.stats = HostStats()
        self.tick_timings: TickTimings | None = None  # set when metrics are served
        self._tick_slots: TickSlots[HostedGame] = TickSlots(self._on_tick_due)
        self._all_finished = asyncio.Event()
        self._all_finished.set()

    # --- lifecycle of one game ----------------------------------------------------
    def add(self, hosted: HostedGame) -> HostedGame:
        hosted.created_at_ms = hosted.created_at_ms or self._clock_ms()
        self.games[hosted.game_id] = hosted
        self._running[hosted.game_id] = hosted
        self._all_finished.clear()
        self.persistence.game_created(hosted)
        return hosted

    def get(self, game_id: int) -> HostedGame | None:
        return self.games.get(game_id)

    def start(self, hosted: HostedGame, start_ms: int | None = None) -> None:
        """Start the clock of a game: tick 0 covers [start_ms, start_ms + tick_ms)."""
        hosted.game.start(self._clock_ms() if start_ms is None else start_ms)
        self.run(hosted)

    def run(self, hosted: HostedGame) -> None:
        """Tick a game whose engine has been started: members get a Snapshot with the
        Started status (the StatusUpdated event says nothing the Snapshot does not)."""
        self.persistence.game_started(hosted)
        self.broadcast_snapshot(hosted)
        self._schedule(hosted)

    def _schedule(self, hosted: HostedGame, now_ms: int | None = None) -> None:
        game = hosted.game
        deadline = tick_deadline_ms(game.tick, game.start_ms, game.tick_ms)
        self._tick_slots.add(hosted, deadline, self._clock_ms() if now_ms is None else now_ms)

    def _on_tick_due(self, hosted: HostedGame) -> None:
        if hosted.finished:
            return  # ended meanwhile (its wake-up stays in its slot until that fires)
        game = hosted.game
        started = time.perf_counter_ns()
        now = self._clock_ms()
        lateness = now - tick_deadline_ms(game.tick, game.start_ms, game.tick_ms)
        if lateness > hosted.max_lateness_ms:
            hosted.max_lateness_ms = lateness
        if lateness > self.stats.max_lateness_ms:
            self.stats.max_lateness_ms = lateness
        if lateness > game.tick_ms:
            self.stats.late_ticks += 1
        before = game.tick
        try:
            events = game.advance_to(committed_tick(now, game.start_ms, game.tick_ms))
        except Exception:  # a bug in the rules must not take the whole host down
            log.exception("game crashed; abandoning it", game_id=hosted.game_id)
            self.abandon(hosted)
            return
        self.stats.ticks += game.tick - before
        self.broadcast_events(hosted, events)
        if game.is_complete:
            self.finish(hosted)
        else:
            self._schedule(hosted, now)  # the tick took microseconds: its start is now enough
        if self.tick_timings is not None:
            self.tick_timings.record(lateness, time.perf_counter_ns() - started)

    def finish(self, hosted: HostedGame) -> None:
        if hosted.finished:
            return
        hosted.finished = True
        hosted.ended_at_ms = self._clock_ms()
        self.stats.games_finished += 1
        self._running.pop(hosted.game_id, None)
        # Callbacks first: matchmaking sets the players' new ratings (mmr_after) on the
        # game, and the finished record written next carries them.
        for callback in hosted.on_finish:
            try:
                callback(hosted)
            except Exception:
                log.exception("on_finish callback failed", game_id=hosted.game_id)
        self.persistence.game_finished(hosted)
        asyncio.get_running_loop().call_later(FINISHED_GAME_LINGER_S, self._forget, hosted)
        if not self._running:
            self._all_finished.set()

    def _forget(self, hosted: HostedGame) -> None:
        if self.games.get(hosted.game_id) is hosted:
            del self.games[hosted.game_id]
        for callback in hosted.on_forget:
            callback(hosted)

    def discard(self, hosted: HostedGame) -> None:
        """Drop a game that never started (an abandoned lobby)."""
        hosted.finished = True
        self.games.pop(hosted.game_id, None)
        self._running.pop(hosted.game_id, None)
        if not self._running:
            self._all_finished.set()

    # --- members ------------------------------------------------------------------
    def attach(self, hosted: HostedGame, member: Member, role: Role) -> None:
        """Start sending a game's events to a member: a fresh Snapshot first."""
        hosted.members[member] = role
        if role == "spectator" and member.user_id not in hosted.spectator_ids:
            hosted.spectator_ids.add(member.user_id)
            self.persistence.spectator_added(hosted, member.user_id)
        member.outbox.send(protocol.encode_game_event(hosted.game.snapshot_event()))

    def detach(self, hosted: HostedGame, member: Member) -> None:
        hosted.members.pop(member, None)

    # --- fan-out --------------------------------------------------------------------
    def broadcast_events(self, hosted: HostedGame, events: Sequence[protocol.GameEventMessage]) -> None:
        """Encode each event once and push the same bytes to every member, all of them in
        one write per member."""
        if not events:
            return  # most ticks of a running game change nothing a member is told
        frames = [protocol.encode_game_event(event) for event in events]
        stats = self.stats
        stats.events += len(frames)
        if hosted.members:
            sent_to = send_to_all(hosted.outboxes(), *frames)
            stats.frames_sent += sent_to * len(frames)
            stats.bytes_sent += sent_to * sum(map(len, frames))
            stats.writes += sent_to

    def broadcast_frame(self, hosted: HostedGame, frame: bytes) -> None:
        send_to_all(hosted.outboxes(), frame)

    def broadcast_snapshot(self, hosted: HostedGame) -> None:
        self.broadcast_events(hosted, [hosted.game.snapshot_event()])

    # --- load and shutdown ------------------------------------------------------------
    def running_games(self) -> list[HostedGame]:
        return list(self._running.values())

    def running_game_count(self) -> int:
        return len(self._running)

    def player_count(self) -> int:
        return sum(h.game.player_count for h in self._running.values())

    async def wait_all_finished(self, timeout_s: float) -> bool:
        """Wait (up to `timeout_s`) until no hosted game is running. True when none is."""
        if not self._running:
            return True
        try:
            await asyncio.wait_for(self._all_finished.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def abandon(self, hosted: HostedGame) -> None:
        """End a game that cannot go on (its host is going away): members are told the
        game is complete with no winner, and it is recorded as abandoned."""
        if hosted.finished:
            return
        hosted.abandoned = True
        self.broadcast_events(hosted, hosted.game.abandon())
        self.finish(hosted)

    def abandon_all(self) -> list[HostedGame]:
        """Stop every running game now (drain deadline passed, or stopping)."""
        stopped = self.running_games()
        for hosted in stopped:
            self.abandon(hosted)
        return stopped
