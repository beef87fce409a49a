"""A room: the one owner of a game's life, its members and its seats.

A `Room` (the shape of a Colyseus room or a Nakama match handler) holds its
`Game` and is the only code that changes it. Its life is a set of methods:

    created (by the Rooms's factory: solo, lobby or matched)
      -> join / leave (members: players and spectators receiving its events)
      -> seat / unseat / relayout (a lobby's seats and settings, before the start)
      -> start -> tick ... (command from players) -> finish (or abandon)
      -> dispose (its linger is over, or a lobby closed before starting)

When the game ends, the room computes the rating changes (matched rooms only),
has the result and the ratings written by one call (`GamePersistence.
record_result`, which is `Database.record_result`), then builds one immutable
`GameResult` and hands it to every `RoomListener`. No listener writes a field
another reads, so the order in which they run decides nothing.

The tick and command paths are synchronous and allocation-lean on purpose: they
run for every game 10 times a second (see ARCHITECTURE.md, "Hot path").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from snaketron import protocol
from snaketron.db.errors import DatabaseError, RatingConflict
from snaketron.db.models import GamePlayerRecord, GameRecord, RatingUpdate, SpectatorRecord
from snaketron.engine import CustomGameSettings, Game, GameCommandMessage
from snaketron.engine.timing import committed_tick, tick_deadline_ms
from snaketron.fanout import Outbox, send_to_all
from snaketron.logs import get_logger
from snaketron.rooms.ports import Member
from snaketron.rooms.ratings import PlayerOutcome, RatedSeats, finishing_order, rating_updates
from snaketron.rooms.records import game_record, player_records
from snaketron.rooms.result import GameResult, PlayerResult, RoomKind

if TYPE_CHECKING:
    from snaketron.games import Rooms

log = get_logger(__name__)

Role = Literal["player", "spectator"]

# Rating writes refused because a player's rating moved on, before the game is left
# unrated: each refusal re-reads and re-rates (it takes a game of theirs finishing
# elsewhere at the same moment, every time).
RERATE_ATTEMPTS = 3


class Room:
    """One game of this process, with who watches it and how it came to be."""

    __slots__ = (
        "_rated",
        "_result_task",
        "_rooms",
        "abandoned",
        "allow_spectators",
        "created_at_ms",
        "ended_at_ms",
        "finished",
        "game",
        "game_code",
        "is_private",
        "joined_at_ms",
        "kind",
        "max_lateness_ms",
        "members",
        "result",
        "spectator_ids",
    )

    def __init__(
        self,
        rooms: Rooms,
        game: Game,
        kind: RoomKind,
        *,
        created_at_ms: int,
        is_private: bool = False,
        allow_spectators: bool = True,
        game_code: str | None = None,
        rated: RatedSeats | None = None,
    ) -> None:
        self._rooms = rooms
        self.game = game  # read freely; changed only by this room's methods
        self.kind: RoomKind = kind
        self.is_private = is_private
        self.allow_spectators = allow_spectators
        self.game_code = game_code
        self.created_at_ms = created_at_ms
        self.members: dict[Member, Role] = {}
        self.spectator_ids: set[int] = set()
        self.joined_at_ms: dict[int, int] = dict.fromkeys(game.players, created_at_ms)  # user id -> when seated
        self.finished = False
        self.abandoned = False  # ended by the server going away, not by the rules
        self.max_lateness_ms = 0
        self.ended_at_ms = 0
        self.result: GameResult | None = None  # once recorded and announced
        self._rated = rated
        self._result_task: asyncio.Task[GameResult] | None = None

    # --- what it is ---------------------------------------------------------------------
    @property
    def game_id(self) -> int:
        return self.game.game_id

    @property
    def rated(self) -> bool:
        return self._rated is not None

    def outboxes(self) -> Iterable[Outbox]:
        return (m.outbox for m in self.members)

    def is_player(self, user_id: int) -> bool:
        return self.game.snake_of(user_id) is not None

    def holds(self, user_id: int) -> bool:
        """Whether this player is still in the game for the seat limit (MAX_SEATS_PER_USER):
        connected to it, or their snake still plays (a lobby seat, a game left while
        alive). Once they left after their snake died they are done with it, however
        long the others play on."""
        if any(member.user_id == user_id for member in self.members):
            return True
        return self.game.death_ticks().get(user_id) is None

    def has_left(self, user_id: int) -> bool:
        """A player of a rated room who left it while it ran (ranked last if still gone)."""
        return self._rated is not None and user_id in self._rated.left_alive

    def mmr_before(self, user_id: int) -> int | None:
        """The mmr a rated player starts from: soft-reset when the game ends (or, still
        running, is now) in a season after their rating's."""
        return self._rated.mmr_before(user_id, self.season()) if self._rated is not None else None

    def season(self) -> str:
        """The season the game belongs to: the one it ended in (running: the current one)."""
        rooms = self._rooms
        return rooms.season_of(self.ended_at_ms or rooms.now_ms())

    # --- members ------------------------------------------------------------------------
    def join(self, member: Member, role: Role) -> None:
        """Start sending the room's events to a member: a fresh Snapshot first."""
        self.members[member] = role
        if role == "spectator" and member.user_id not in self.spectator_ids:
            self.spectator_ids.add(member.user_id)
            spectator = SpectatorRecord(game_id=self.game_id, user_id=member.user_id, joined_at_ms=self._rooms.now_ms())
            self._rooms.persistence.spectator_added(spectator)
        member.outbox.send(protocol.encode_game_event(self.game.snapshot_event()))

    def leave(self, member: Member) -> None:
        """A member's connection leaves (LeaveGame or disconnect). A rated room notes a
        player who leaves the running game with their snake alive: ranked last if they
        are still gone at the end."""
        self.members.pop(member, None)
        rated = self._rated
        if rated is not None and not self.finished and self.is_player(member.user_id):
            rated.left_alive[member.user_id] = self.game.death_ticks().get(member.user_id) is None

    # --- a lobby's seats and settings (before the start) -----------------------------------
    def seat(self, user_id: int, username: str) -> None:
        """Seat a player (GameFull, AlreadyStarted from the engine when it cannot)."""
        self.game.add_player(user_id, username)
        self.joined_at_ms[user_id] = self._rooms.now_ms()
        self._rooms.seated(self, user_id)
        self.saved(players=True)
        self.broadcast_snapshot()

    def unseat(self, user_id: int) -> bool:
        """Free a seat before the start; the host's role passes on to the next player.
        The leaver's row is deleted; when nobody is left the game was never played and
        its item and rows are deleted too (queued after this room's earlier writes).
        True when the room is empty now (the caller closes it)."""
        game = self.game
        game.remove_player(user_id)
        self.joined_at_ms.pop(user_id, None)
        self._rooms.unseated(self, user_id)
        persistence = self._rooms.persistence
        if game.player_count == 0:
            persistence.game_discarded(self.game_id, (user_id,), sorted(self.spectator_ids))
            return True
        persistence.player_removed(self.game_id, user_id)
        if game.host_user_id == user_id:
            game.host_user_id = next(iter(game.players))
            log.info("lobby host passed on", game_id=self.game_id, host=game.host_user_id)
        self.saved(players=True)
        self.broadcast_snapshot()
        return False

    def relayout(self, settings: CustomGameSettings) -> None:
        """New lobby settings: the arena, start positions and food all follow from them,
        so the game is laid out afresh with the same id, code, host and seats."""
        old = self.game
        game = self._rooms.lobby_game(old.game_id, settings, self.game_code or "", old.host_user_id, self.created_at_ms)
        for seated, name in old.usernames.items():
            game.add_player(seated, name)
        self.game = game
        self.is_private = settings.is_private
        self.allow_spectators = settings.allow_spectators
        self.saved(players=True)
        self.broadcast_frame(protocol.encode_server_message(protocol.CustomGameSettingsUpdated(settings=settings)))
        self.broadcast_snapshot()

    # --- play ---------------------------------------------------------------------------
    def start(self, start_ms: int | None = None, *, announce: bytes | None = None) -> None:
        """Start the clock: tick 0 covers [start_ms, start_ms + tick_ms). The engine
        refuses (NotEnoughPlayers) before anything is sent. `announce` goes to the
        members first (a lobby's CustomGameStarting); then a Snapshot with the Started
        status (the StatusUpdated event says nothing the Snapshot does not)."""
        rooms = self._rooms
        self.game.start(rooms.now_ms() if start_ms is None else start_ms)
        if announce is not None:
            self.broadcast_frame(announce)
        self.saved()
        self.broadcast_snapshot()
        rooms.schedule(self)
        for listener in rooms.listeners:
            _notify(listener.room_started, self.game_id, self.kind)

    def command(self, user_id: int, msg: GameCommandMessage) -> None:
        """A player's command: scheduled by the engine (CommandRejected when it cannot)
        and its event sent to every member at once."""
        self.broadcast_events((self.game.schedule_command(user_id, msg),))

    def tick(self) -> int | None:
        """Woken when the next tick is computable: advance, fan out, end if it ended.
        Returns when the next tick will be computable (None: the game is over), for
        `Rooms.tick_slots`. Synchronous: nothing on this path awaits."""
        if self.finished:
            return None  # ended meanwhile (its wake-up stays in its slot until that fires)
        rooms = self._rooms
        game = self.game
        timings = rooms.tick_timings
        started = time.perf_counter_ns() if timings is not None else 0
        now = rooms.now_ms()
        # Read once: each is an attribute chain, and this runs 10 times a second per game.
        tick_ms = game.tick_ms
        start_ms = game.start_ms
        before = game.tick
        lateness = now - tick_deadline_ms(before, start_ms, tick_ms)
        if lateness > self.max_lateness_ms:
            self.max_lateness_ms = lateness
            # The host's maximum is at least every room's: only a new room maximum can raise it.
            stats = rooms.stats
            if lateness > stats.max_lateness_ms:
                stats.max_lateness_ms = lateness
        if lateness > tick_ms:
            rooms.stats.late_ticks += 1
        try:
            events = game.advance_to(committed_tick(now, start_ms, tick_ms))
        except Exception:  # a bug in the rules must not take the whole host down
            log.exception("game crashed; abandoning it", game_id=self.game_id)
            self.abandon()
            return None
        after = game.tick
        rooms.stats.ticks += after - before
        if events:
            self.broadcast_events(events)
        if game.is_complete:
            self.finish()
            following = None
        else:
            following = tick_deadline_ms(after, start_ms, tick_ms)
        if timings is not None:
            timings.record(lateness, time.perf_counter_ns() - started)
        return following

    def abandon(self) -> None:
        """End a game that cannot go on (its server is going away, or its rules crashed):
        members are told the game is complete with no winner; recorded as abandoned."""
        if self.finished:
            return
        self.abandoned = True
        self.broadcast_events(self.game.abandon())
        self.finish()

    def finish(self) -> None:
        """The game ended: rate it, record result and ratings in one write, then hand
        the `GameResult` to the listeners (`wait_result` awaits all of it)."""
        if self.finished:
            return
        rooms = self._rooms
        self.finished = True
        self.ended_at_ms = rooms.now_ms()
        rooms.room_finished(self)
        self._rate_from_known_ratings()
        ratings = self._rating_updates()
        # The result as it is now, written by one task (the tick path never awaits).
        record = game_record(self, rooms.server_id, self.ended_at_ms)
        rows = player_records(self, with_results=True, mmr_after={u.user_id: u.mmr for u in ratings})
        self._result_task = rooms.tasks.spawn(self._record(record, rows, ratings), f"result of game {self.game_id}")

    async def wait_result(self, timeout_s: float) -> GameResult | None:
        """The result once written and announced (None: the game has not ended)."""
        task = self._result_task
        if task is None:
            return None
        return await asyncio.wait_for(asyncio.shield(task), timeout_s)

    def dispose(self) -> None:
        """Forget the room: its linger after the end is over, or a lobby closed before
        its start. Listeners drop what they keep of it (a lobby's code)."""
        self.finished = True
        rooms = self._rooms
        rooms.room_disposed(self)
        for listener in rooms.listeners:
            _notify(listener.room_disposed, self.game_id, self.game_code)

    # --- what it writes -----------------------------------------------------------------
    def saved(self, *, players: bool = False) -> None:
        """Queue the game item as it is now (and its player rows when seats changed)."""
        rooms = self._rooms
        rows = player_records(self, with_results=False) if players else []
        rooms.persistence.save_game(game_record(self, rooms.server_id, rooms.now_ms()), rows)

    # --- the result ---------------------------------------------------------------------
    def _rate_from_known_ratings(self) -> None:
        """Rate players from the newest rating this server wrote (or is writing) for them
        when it is newer than their ticket's. A player queues again as soon as a game
        ends, and under load that game's result may land only after the ticket was
        written: the ticket then carries the rating from before it, and rating from that
        copy has the guarded write refused, a re-read and a second write. A copy whose
        write failed is forgotten (persistence.GameRecorder); one still on its way that
        then fails, or a newer rating from elsewhere, is caught by the guard (gamesPlayed,
        ratingMu and ratingSigma)."""
        rated = self._rated
        if rated is None:
            return
        for user_id, ticket in list(rated.tickets.items()):
            known = self._rooms.persistence.known_rating(user_id)
            if known is not None and known.games_played > ticket.games_played:
                rated.carry(user_id, known)

    def _rating_updates(self) -> list[RatingUpdate]:
        rated = self._rated
        game = self.game
        if rated is None or self.abandoned or not game.is_complete:
            return []  # unrated, or no result to rate
        order = finishing_order(self._outcomes(rated), teams=game.setup.per_team > 0)
        return rating_updates(order, rated.tickets, self.season()) if len(order) >= 2 else []

    def _outcomes(self, rated: RatedSeats | None) -> list[PlayerOutcome]:
        game = self.game
        present = {member.user_id for member, role in self.members.items() if role == "player"}
        deaths = game.death_ticks()
        snakes = game.state.arena.snakes
        outcomes = []
        for user_id, snake_id in game.players.items():
            # Gone at the end of a rated game: left while alive, or never joined (no
            # entry) -> last. Someone who left after their snake died keeps their place.
            # (Unrated rooms do not follow who left: everyone is placed by the game.)
            left = rated is not None and user_id not in present and rated.left_alive.get(user_id, True)
            outcomes.append(
                PlayerOutcome(
                    user_id=user_id,
                    team_id=snakes[snake_id].team_id,
                    won=snake_id == game.winning_snake_id,
                    died_at=deaths.get(user_id),
                    left=left,
                )
            )
        return outcomes

    async def _record(
        self, record: GameRecord, rows: list[GamePlayerRecord], ratings: list[RatingUpdate]
    ) -> GameResult:
        rooms = self._rooms
        for attempt in range(1, RERATE_ATTEMPTS + 1):
            # The result as it is announced if the write lands: its replay and boards are
            # written with it (persistence.GameRecorder).
            expected = self._result({u.user_id: u.mmr for u in ratings})
            try:
                written = await rooms.persistence.record_result(record, rows, ratings, expected)
                break
            except RatingConflict as exc:
                # A ticket carried a rating that moved on (a stale sign-in copy, or another
                # game of theirs rated meanwhile): read the ratings and rate again.
                log.info("ratings changed meanwhile; rating again", game_id=self.game_id, users=exc.user_ids)
                if attempt == RERATE_ATTEMPTS or not await self._reread_ratings(exc.user_ids):
                    # Nothing was written: the game's rows still must be (unrated).
                    rows = player_records(self, with_results=True)
                    await rooms.persistence.record_result(record, rows, [], self._result({}))
                    written = False
                    break
                ratings = self._rating_updates()
                rows = player_records(self, with_results=True, mmr_after={u.user_id: u.mmr for u in ratings})
        new_mmr = {u.user_id: u.mmr for u in ratings} if written else {}
        result = self._result(new_mmr)
        self.result = result
        for listener in rooms.listeners:
            _notify(listener.room_finished, result)
        return result

    async def _reread_ratings(self, user_ids: Sequence[int]) -> bool:
        """Replace these players' tickets' rating state with what is stored now; False
        (logged) when it cannot be read."""
        rated = self._rated
        if rated is None:
            return False
        try:
            current = await self._rooms.persistence.read_ratings(user_ids)
        except DatabaseError as exc:
            log.error("ratings not re-read; game not rated", game_id=self.game_id, error=str(exc))
            return False
        for user_id, copy in current.items():
            rated.carry(user_id, copy)
        return True

    def _result(self, new_mmr: dict[int, int]) -> GameResult:
        game = self.game
        snakes = game.state.arena.snakes
        places = self.places()
        lengths = game.snake_lengths()
        winner = self.winner_user_id()
        players = tuple(
            PlayerResult(
                user_id=user_id,
                username=game.usernames.get(user_id, ""),
                snake_id=snake_id,
                team_id=snakes[snake_id].team_id,
                place=places.get(user_id, len(places) + 1),
                score=lengths.get(user_id, 0),
                left=self.has_left(user_id),
                mmr_before=self.mmr_before(user_id),
                mmr_after=new_mmr.get(user_id),
            )
            for user_id, snake_id in game.players.items()
        )
        return GameResult(
            game_id=game.game_id,
            kind=self.kind,
            game_type=game.game_type,
            rated=self.rated,
            is_private=self.is_private,
            region=self._rooms.region,
            server_id=self._rooms.server_id,
            start_ms=game.start_ms,
            end_ms=self.ended_at_ms,
            end_tick=game.tick,
            winner_user_id=winner,
            abandoned=self.abandoned or not game.is_complete,
            players=players,
            spectator_ids=tuple(sorted(self.spectator_ids)),
            recording=game.recording() if game.is_started else None,
        )

    def places(self) -> dict[int, int]:
        """Each player's place (1 is best; equal places are draws), in the order the game
        is rated in (`finishing_order`): the winner (or winning team), the survivors, then
        later deaths first, snakes that died in the same tick sharing a place; in a rated
        game a player who left (or never came) ranks last. Boards, profiles and history
        count wins, losses and draws from these, so they agree with the rating."""
        order = finishing_order(self._outcomes(self._rated), teams=self.game.setup.per_team > 0)
        return {user_id: rank for users, rank in order for user_id in users}

    def winner_user_id(self) -> int | None:
        game = self.game
        if game.winning_snake_id is None:
            return None
        return next((u for u, s in game.players.items() if s == game.winning_snake_id), None)

    # --- fan-out ------------------------------------------------------------------------
    def broadcast_events(self, events: Sequence[protocol.GameEventMessage]) -> None:
        """Encode each event once and push the same bytes to every member, all of them in
        one write per member."""
        if not events:
            return  # most ticks of a running game change nothing a member is told
        frames = [protocol.encode_game_event(event) for event in events]
        stats = self._rooms.stats
        stats.events += len(frames)
        if self.members:
            sent_to = send_to_all(self.outboxes(), *frames)
            stats.frames_sent += sent_to * len(frames)
            stats.bytes_sent += sent_to * sum(map(len, frames))
            stats.writes += sent_to

    def broadcast_frame(self, frame: bytes) -> None:
        send_to_all(self.outboxes(), frame)

    def broadcast_snapshot(self) -> None:
        self.broadcast_events([self.game.snapshot_event()])

    def __repr__(self) -> str:
        return f"<Room {self.game_id} {self.kind} finished={self.finished}>"


def _notify(method: Callable[..., object], *args: object) -> None:
    """Call one listener; a failing listener is logged and never stops the others."""
    try:
        method(*args)
    except Exception:
        log.exception("room listener failed", listener=repr(method))
