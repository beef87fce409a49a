"""This server's side of matchmaking: its players' tickets and their notifications.

`MatchmakingService` is what the WebSocket server calls (`enqueue`, `dequeue`,
`connection_lost`, `running_match_of`, ...). It knows its players as
`QueuedPlayer`s (the network layer's sessions, which turn what they are told into
frames) and refuses with `MatchmakingRefused`. It writes one ticket per queued
player (queueing again replaces it; leaving or disconnecting withdraws it),
carrying the rating the player's sign-in read or the newer one this server wrote
since (`known_rating`), so queueing reads nothing; it runs this server's `Matcher` (active only while it holds the
region's lease), and tells its players about their matches:

- matches placed by this server's own matcher are delivered in-process, at
  once;
- matches made elsewhere are found by reading the region's tickets every
  `match_poll_ms` while this server has players waiting (one query; none when
  nobody waits, and none while this server's matcher is active, whose own
  read of the same tickets is reused). The same read gives queue positions for
  `QueueUpdate`.

A delivered ticket is deleted; the player's client answers `MatchFound` with
its own `JoinGame`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from snaketron.config import Settings
from snaketron.db.errors import DatabaseError, WriteDropped
from snaketron.db.interface import Database
from snaketron.db.models import MatchTicket
from snaketron.engine import GameType
from snaketron.games import wall_clock_ms
from snaketron.histograms import MATCH_WAIT_BOUNDS_S, BucketCounts
from snaketron.logs import get_logger
from snaketron.matchmaking.forming import WindowSchedule, estimate_wait_s
from snaketron.matchmaking.matcher import Matcher
from snaketron.matchmaking.placement import Deliver, IsWaiting, LocalPlacement, MatchPlacement, PlacementRooms
from snaketron.matchmaking.queues import OFFERED, QueueRule, rule_for
from snaketron.matchmaking.results import MatchSeatIndex
from snaketron.rating import RatingCopy, copy_of
from snaketron.rooms.ports import RoomListener
from snaketron.rooms.room import Room
from snaketron.tasks import BackgroundTasks

log = get_logger(__name__)

# Weight of the newest wait in a queue's typical wait (for estimates).
TYPICAL_WAIT_WEIGHT = 0.3
# A matched ticket may show up in a few reads after its delete was sent (the index
# lags; the matcher's view is a round old): delete it once, not once per read.
DELETE_MEMORY_MS = 10_000


class QueuedPlayer(Protocol):
    """A queued player's connection, as matchmaking sees it: the network layer turns
    what it is told into frames (MatchFound, QueueUpdate)."""

    @property
    def user_id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def rating(self) -> RatingCopy | None: ...  # what its sign-in read; None: read at queueing
    def match_found(self, game_id: int) -> None: ...
    def queue_update(self, position: int, estimated_wait_seconds: int) -> None: ...


class MatchmakingRefused(Exception):
    """A queue request the client is told about with AccessDenied."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MatchRooms(PlacementRooms, Protocol):
    """What matchmaking needs of the rooms (`games.Rooms`)."""

    def get(self, game_id: int) -> Room | None: ...
    def subscribe(self, listener: RoomListener) -> None: ...


# The newest rating this process wrote for a user (persistence.GameRecorder), if any.
KnownRating = Callable[[int], RatingCopy | None]


def _nothing_known(_: int) -> RatingCopy | None:
    return None


# The cluster wraps this server's own placement (it may host a match elsewhere).
PlacementFactory = Callable[[MatchPlacement, Deliver, IsWaiting], MatchPlacement]


@dataclass(eq=False)
class Waiting:
    """A queued player of this server."""

    player: QueuedPlayer
    rule: QueueRule
    ticket: MatchTicket | None = None  # None until built (a player with no rating copy: read)
    stored: bool = False  # the ticket is durable
    next_update_ms: int = 0


# A matcher's view older than this is read afresh (a round stuck on the database).
MATCHER_VIEW_MAX_AGE_MS = 15_000


def ticket_identity(ticket: MatchTicket) -> tuple[str, int, int]:
    return (ticket.queue_key, ticket.enqueued_at_ms, ticket.user_id)


def same_ticket(a: MatchTicket, b: MatchTicket) -> bool:
    return ticket_identity(a) == ticket_identity(b)


class MatchmakingService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        rooms: MatchRooms,
        tasks: BackgroundTasks,
        *,
        clock_ms: Callable[[], int] = wall_clock_ms,
        placement: PlacementFactory | None = None,
        known_rating: KnownRating = _nothing_known,
    ) -> None:
        self.settings = settings
        self.known_rating = known_rating
        self.db = db
        self.rooms = rooms
        self.tasks = tasks
        self.clock_ms = clock_ms
        self.windows = WindowSchedule.parse(settings.match_windows)
        self.seats = MatchSeatIndex()
        rooms.subscribe(self.seats)
        local = LocalPlacement(
            rooms,
            self.seats,
            self.deliver,
            self.is_waiting,
            start_delay_ms=settings.matchmade_start_delay_ms,
            clock_ms=clock_ms,
        )
        self.placement: MatchPlacement = local if placement is None else placement(local, self.deliver, self.is_waiting)
        self.server_id = 0
        self.waiting: dict[int, Waiting] = {}  # user id -> their queue entry on this server
        self.matcher: Matcher | None = None
        self.typical_wait_s: dict[str, float] = {}  # queue key -> recent waits, smoothed
        self.wait_times = BucketCounts(MATCH_WAIT_BOUNDS_S)  # this server's players, queued to matched
        self._poll: asyncio.Task[None] | None = None
        self._deleted: dict[tuple[str, int, int], int] = {}  # ticket -> when its delete was sent

    # --- lifecycle -------------------------------------------------------------------------
    def start(self, server_id: int) -> None:
        """Begin polling (and, when enabled, standing for the matcher lease)."""
        self.server_id = server_id
        settings = self.settings
        if settings.matcher_enabled:
            self.matcher = Matcher(
                self.db,
                self.placement,
                region=settings.region,
                owner=f"server-{server_id}-{secrets.token_hex(4)}",
                windows=self.windows,
                partial_after_ms=settings.match_partial_after_ms,
                interval_ms=settings.matcher_interval_ms,
                idle_interval_ms=settings.matcher_idle_interval_ms,
                lease_ms=settings.matcher_lease_ms,
                server_freshness_ms=round(settings.heartbeat_seconds * 3000),
                clock_ms=self.clock_ms,
                server_id=server_id,
            )
            self.matcher.start()
        self._poll = asyncio.get_running_loop().create_task(self._poll_loop())

    async def stop_matching(self) -> None:
        """Give the matcher lease up (draining: a standby elsewhere takes over at once)."""
        if self.matcher is not None:
            await self.matcher.stop()

    async def stop(self) -> None:
        await self.stop_matching()
        poll, self._poll = self._poll, None
        if poll is not None:
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poll

    # --- the WebSocket server's hooks ------------------------------------------------------
    async def enqueue(self, player: QueuedPlayer, game_type: GameType) -> None:
        """Queue (or queue again) a player. MatchmakingRefused when the game type is not
        offered or the ticket could not be written (and the player is still queued)."""
        rule = rule_for(game_type)
        if rule is None:
            raise MatchmakingRefused(f"matchmaking offers {OFFERED}")
        user_id = player.user_id
        entry = Waiting(player, rule)
        previous = self.waiting.get(user_id)
        self.waiting[user_id] = entry
        if previous is not None:
            self._withdraw(previous)
        try:
            # The copy sign-in read, or the newer one a game here wrote since: no read.
            # A copy gone stale elsewhere is caught by the rating write's guard.
            copy = player.rating
            known = self.known_rating(user_id)
            if copy is not None:
                copy = copy.newer(known)
            else:
                copy = known or copy_of(await self.db.get_user(user_id))
                if self.waiting.get(user_id) is not entry:
                    return  # left, disconnected or queued again meanwhile
            now = self.clock_ms()
            if previous is not None and previous.ticket is not None:
                # Never reuse the key of the ticket just withdrawn (same queue, same ms).
                now = max(now, previous.ticket.enqueued_at_ms + 1)
            entry.ticket = MatchTicket(
                region=self.settings.region,
                queue_key=rule.key,
                user_id=user_id,
                username=player.username,
                mmr=copy.mmr,
                server_id=self.server_id,
                enqueued_at_ms=now,
                rating_mu=copy.mu,
                rating_sigma=copy.sigma,
                games_played=copy.games_played,
                rating_season=copy.season,
            )
            await self.db.put_ticket(entry.ticket, ttl_seconds=self.settings.match_ticket_ttl_seconds)
        except DatabaseError as exc:
            if not isinstance(exc, WriteDropped):  # at shutdown the batch writer counts those
                log.warning("ticket not written", user_id=user_id, error=str(exc))
            if self.waiting.get(user_id) is entry:
                del self.waiting[user_id]
                self._withdraw(entry)
                raise MatchmakingRefused("matchmaking is unavailable right now; try again") from None
            return
        if self.waiting.get(user_id) is not entry:
            self._withdraw(entry)  # the withdrawal raced the write: delete what was written
            return
        entry.stored = True
        if self.matcher is not None:
            self.matcher.nudge()

    async def dequeue(self, user_id: int) -> None:
        entry = self.waiting.pop(user_id, None)
        if entry is not None:
            self._withdraw(entry)

    def connection_lost(self, player: QueuedPlayer) -> None:
        entry = self.waiting.get(player.user_id)
        if entry is not None and entry.player is player:
            del self.waiting[player.user_id]
            self._withdraw(entry)

    def running_match_of(self, user_id: int) -> int | None:
        """The running matchmade game here that seats this user: a player back after a
        disconnect learns of it again."""
        hosted = self._matched_game(user_id)
        return hosted.game_id if hosted is not None else None

    # --- one seat at a time ----------------------------------------------------------------
    def matched_game_of(self, user_id: int) -> int | None:
        """A running matchmade game here that seats this user and that they have not left
        (matched, JoinGame still to come, or playing it on another connection)."""
        hosted = self._matched_game(user_id)
        if hosted is None or hosted.has_left(user_id):
            return None
        return hosted.game_id

    def _matched_game(self, user_id: int) -> Room | None:
        """The running matchmade game hosted here that seats this user (an index lookup)."""
        game_id = self.seats.game_of(user_id)
        hosted = self.rooms.get(game_id) if game_id is not None else None
        if hosted is None or hosted.finished or not hosted.is_player(user_id):
            return None
        return hosted

    def seated_elsewhere(self, user_id: int) -> None:
        """The player takes a seat in another game (solo, lobby): out of the queue, so a
        match being placed cannot seat them a second time (placement checks `is_waiting`)."""
        entry = self.waiting.pop(user_id, None)
        if entry is not None:
            self._withdraw(entry)

    # --- tickets ---------------------------------------------------------------------------
    def _withdraw(self, entry: Waiting) -> None:
        # The batch writer keeps writes of one key in order: a delete queued behind the
        # put of the same ticket lands after it.
        if entry.ticket is not None:
            self.tasks.spawn(self._delete(entry.ticket), "withdraw a match ticket")

    async def _delete(self, ticket: MatchTicket) -> None:
        try:
            await self.db.delete_ticket(ticket)
        except DatabaseError as exc:
            log.warning("match ticket not deleted", user_id=ticket.user_id, error=str(exc))

    def is_waiting(self, ticket: MatchTicket) -> bool:
        """Is this ticket still its player's current one here?"""
        entry = self.waiting.get(ticket.user_id)
        return entry is not None and entry.ticket is not None and same_ticket(entry.ticket, ticket)

    def deliver(self, ticket: MatchTicket, game_id: int) -> None:
        """A ticket of this server was matched: tell its player (once) and delete it."""
        if self.is_waiting(ticket):
            entry = self.waiting.pop(ticket.user_id)
            waited_s = max(0, self.clock_ms() - ticket.enqueued_at_ms) / 1000
            self.wait_times.observe(waited_s)
            typical = self.typical_wait_s.get(ticket.queue_key)
            self.typical_wait_s[ticket.queue_key] = (
                waited_s if typical is None else typical + TYPICAL_WAIT_WEIGHT * (waited_s - typical)
            )
            entry.player.match_found(game_id)
        key = (ticket.queue_key, ticket.enqueued_at_ms, ticket.user_id)
        if key not in self._deleted:
            self._deleted[key] = self.clock_ms()
            self.tasks.spawn(self._delete(ticket), "delete a delivered match ticket")

    # --- the poll ----------------------------------------------------------------------------
    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.match_poll_ms / 1000)
            if not any(entry.stored for entry in self.waiting.values()):
                continue
            try:
                await self.poll()
            except DatabaseError as exc:
                log.warning("match poll failed", error=str(exc))
            except Exception:
                log.exception("match poll crashed")

    async def poll(self) -> None:
        now = self.clock_ms()
        tickets = self._matcher_view(now)
        if tickets is None:
            tickets = await self.db.list_region_tickets(self.settings.region, now_ms=now)
        self.observe(tickets, now)

    def _matcher_view(self, now: int) -> list[MatchTicket] | None:
        """The tickets this server's active matcher read in its last round. While it holds
        the region's lease no other matcher places matches, so its view misses nothing
        to deliver; under load a round takes seconds (it waits on its claims), and
        reading the whole region again meanwhile only slowed the rounds down (the
        capacity run through matchmaking: 14% of the server's CPU)."""
        matcher = self.matcher
        if matcher is None or not matcher.is_active(now) or matcher.last_tickets is None:
            return None
        read_at, tickets = matcher.last_tickets
        if now - read_at > MATCHER_VIEW_MAX_AGE_MS:
            return None
        return tickets

    def observe(self, tickets: Sequence[MatchTicket], now: int) -> None:
        """Deliver this server's matched tickets; send due QueueUpdates."""
        self._deleted = {k: at for k, at in self._deleted.items() if now - at < DELETE_MEMORY_MS}
        queues: dict[str, list[MatchTicket]] = {}
        for ticket in tickets:
            if ticket.matched_game_id is None:
                queues.setdefault(ticket.queue_key, []).append(ticket)
            elif ticket.server_id == self.server_id:
                self.deliver(ticket, ticket.matched_game_id)
        # Places by ticket identity, built once: looking each waiting player up in its
        # queue one by one was quadratic (a 250 ms stall with 1,200 players queued).
        places: dict[str, dict[tuple[str, int, int], int]] = {}
        for entry in list(self.waiting.values()):
            if not entry.stored or now < entry.next_update_ms or entry.ticket is None:
                continue
            queue = queues.get(entry.rule.key, [])
            place = places.get(entry.rule.key)
            if place is None:
                place = places[entry.rule.key] = {ticket_identity(t): i for i, t in enumerate(queue)}
            position = place.get(ticket_identity(entry.ticket))
            if position is None:
                continue  # not visible yet (the index lags a little)
            estimate = estimate_wait_s(
                entry.rule,
                waiting=len(queue),
                waited_ms=now - entry.ticket.enqueued_at_ms,
                windows=self.windows,
                partial_after_ms=self.settings.match_partial_after_ms,
                typical_wait_s=self.typical_wait_s.get(entry.rule.key),
            )
            entry.player.queue_update(position + 1, estimate)
            entry.next_update_ms = now + self.settings.queue_update_ms
