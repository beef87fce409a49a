"""The region's matcher: one at a time across the cluster, holding a DynamoDB lease.

Every server of a region runs a `Matcher`; the one holding the lease
`LEASE#matcher#<region>` matches, the others are standbys that try to take the
lease now and then. The holder renews it at half its life (beside its rounds, which
go on meanwhile) and stops matching a
safety margin before it would run out, so a standby that takes over an expired
lease does not overlap with a holder that merely stalled. When the holder dies,
a standby takes over within about one lease length.

Each round (about once a second) reads every ticket of the region in one query
(in pages of 1,000, so that parsing a long queue never holds the event loop for long),
forms matches per queue (`forming.py`), and claims them in batches: one
transaction marks the tickets of up to 50 duels (100 tickets, DynamoDB's limit)
matched, each ticket on condition that it still exists unmatched, so a withdrawn
ticket is never matched. A batch that loses (a ticket matched by another matcher,
or withdrawn) changes nothing, not even for its other matches: the cancellation
reasons name the lost tickets, and the batch's matches are formed again without
those players. So even two matchers at once cannot put a player in two games. A
claimed match is handed to the placement.

Claims used to be one transaction per match: at 1,000 duel bots a round of 317
claims took 29 s on the embedded endpoint (which answers one request at a time),
the queue grew while it ran, and queue-to-match p99 reached 32 s (2026-12-07).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from snaketron.db.errors import DatabaseError, LeaseHeld, TicketAlreadyClaimed
from snaketron.db.interface import MAX_TRANSACTION_ACTIONS, Database
from snaketron.db.models import MatchTicket
from snaketron.games import wall_clock_ms
from snaketron.logs import get_logger
from snaketron.matchmaking.forming import FormedMatch, WindowSchedule, form_matches
from snaketron.matchmaking.placement import MatchPlacement, PlayersGone
from snaketron.matchmaking.queues import RULES, QueueRule

log = get_logger(__name__)

# Claims of one queue in one round: a lost claim re-forms the rest this many times.
MAX_CLAIM_ATTEMPTS = 5
# Claim transactions of one round in flight at once (each claims a batch of matches).
PARALLEL_CLAIMS = 4
# Tickets claimed in one transaction (one action each).
CLAIM_BATCH_TICKETS = MAX_TRANSACTION_ACTIONS


def lease_name(region: str) -> str:
    return f"matcher#{region}"


class Matcher:
    def __init__(
        self,
        db: Database,
        placement: MatchPlacement,
        *,
        region: str,
        owner: str,
        windows: WindowSchedule,
        partial_after_ms: int,
        interval_ms: int = 1_000,
        idle_interval_ms: int = 3_000,
        lease_ms: int = 5_000,
        server_freshness_ms: int = 15_000,
        lease: str | None = None,
        clock_ms: Callable[[], int] = wall_clock_ms,
        server_id: int | None = None,
    ) -> None:
        self._db = db
        self._server_id = server_id  # this matcher's own server: live while it runs
        self._placement = placement
        self.region = region
        self.owner = owner
        self.lease = lease or lease_name(region)
        self._windows = windows
        self._partial_after_ms = partial_after_ms
        self._interval_ms = interval_ms
        self._idle_interval_ms = max(interval_ms, idle_interval_ms)
        self._lease_ms = lease_ms
        self._freshness_ms = server_freshness_ms
        self._clock_ms = clock_ms
        self._lease_expires_ms = 0
        self._next_attempt_ms = 0
        self._live: tuple[int, set[int]] | None = None  # (read at, live server ids)
        self._task: asyncio.Task[None] | None = None
        self._renewal: asyncio.Task[None] | None = None  # a held lease's renewal in flight
        self._progress = asyncio.Condition()
        self._wake = asyncio.Event()
        # What the last round saw, for this server's queue positions (saves a read).
        self.last_tickets: tuple[int, list[MatchTicket]] | None = None
        # Tickets the last round left waiting (not matched by it, not discarded): none
        # means the next round may wait for a nudge (a lone match costs no extra read).
        self._left_open = 0
        self._matched_now: set[int] = set()  # users the running round placed
        self.rounds = 0  # rounds run while holding the lease
        self.matches_made = 0
        self.claims_lost = 0

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, *, release: bool = True) -> None:
        """Stop matching; hand the lease over at once (`release=False` lets it run out,
        as when a process dies)."""
        # The renewal too: one finishing after the release would take the lease back.
        for task in (self._task, self._renewal):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._renewal = None
        was_holding = self._lease_expires_ms > 0
        self._lease_expires_ms = 0
        if release and was_holding:
            try:
                await self._db.release_lease(self.lease, self.owner)
            except DatabaseError as exc:
                log.warning("matcher lease not released", error=str(exc))

    def is_active(self, now_ms: int | None = None) -> bool:
        """Holding the lease, with margin to spare."""
        now = self._clock_ms() if now_ms is None else now_ms
        return now < self._lease_expires_ms - self._lease_ms // 5

    async def wait_rounds(self, count: int, timeout_s: float) -> None:
        """Wait until `count` more rounds have run (tests: proof that nothing was matched)."""
        target = self.rounds + count
        async with asyncio.timeout(timeout_s), self._progress:
            await self._progress.wait_for(lambda: self.rounds >= target)

    def nudge(self) -> None:
        """A ticket was queued here: an idle matcher reads the queues at its next round."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            began = self._clock_ms()
            if self.is_active(began):
                # A held lease is renewed beside the round, not before it: on a busy
                # endpoint the renewal waited seconds in line and the round with it. The
                # round needs no renewal to start, as the lease still has its margin.
                if self._renewal_due(began) and (self._renewal is None or self._renewal.done()):
                    self._renewal = asyncio.get_running_loop().create_task(self._tend_lease(began))
            else:
                await self._tend_lease(began)
            idle = False
            self._wake.clear()  # before the read: a ticket queued during it still wakes us
            if self.is_active():
                try:
                    await self.run_round()
                    idle = not self.last_tickets_open()
                except DatabaseError as exc:
                    log.warning("matching round failed", error=str(exc))
                except Exception:
                    log.exception("matching round crashed")
                self.rounds += 1
                async with self._progress:
                    self._progress.notify_all()
            if idle:
                # Nobody queued in the whole region: read less often. A ticket queued on
                # this server ends the pause; one queued elsewhere waits at most this long.
                # The lease is still renewed in time.
                renew_in = self._lease_expires_ms - self._lease_ms // 2 - self._clock_ms()
                pause_ms = min(self._idle_interval_ms, max(self._interval_ms, renew_in))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), pause_ms / 1000)
            # Never more than one round per interval, however often it is nudged.
            await asyncio.sleep(max(0, self._interval_ms - (self._clock_ms() - began)) / 1000)

    def last_tickets_open(self) -> bool:
        """Did the last round leave any ticket waiting? Tickets it matched itself do not
        count: reading the queues again a round later only found them claimed (1.44
        Query per lone duel before, 2026-12-07)."""
        return self._left_open > 0

    def _renewal_due(self, now: int) -> bool:
        """A held lease is renewed from its half-life on."""
        return now >= self._lease_expires_ms - self._lease_ms // 2

    async def _tend_lease(self, now: int) -> None:
        if self.is_active(now):
            if not self._renewal_due(now):
                return  # fresh enough
        elif now < self._next_attempt_ms:
            return
        try:
            lease = await self._db.acquire_lease(self.lease, self.owner, now_ms=now, duration_ms=self._lease_ms)
        except LeaseHeld:
            if self._lease_expires_ms:
                log.info("matcher lease lost", owner=self.owner)
            self._lease_expires_ms = 0
            self._next_attempt_ms = now + max(self._interval_ms, self._lease_ms // 4)
            return
        except DatabaseError as exc:
            # Still ours until it runs out, as far as anyone can tell.
            log.warning("matcher lease not renewed", error=str(exc))
            return
        if not self.is_active(now):
            log.info("matcher lease taken", owner=self.owner, region=self.region)
        self._lease_expires_ms = lease.expires_at_ms

    # --- one round -----------------------------------------------------------------------
    async def run_round(self, now_ms: int | None = None) -> int:
        """Match what can be matched now; returns the number of matches placed."""
        now = self._clock_ms() if now_ms is None else now_ms
        tickets = await self._db.list_region_tickets(self.region, now_ms=now)
        self.last_tickets = (now, tickets)
        self._matched_now = set()
        queues, discard = open_tickets_by_queue(tickets)
        self._left_open = sum(len(q) for q in queues.values())
        # Tickets of this matcher's own server need no liveness read (a lone match of
        # players queued here then costs one Query fewer).
        if any(len(q) >= 2 and any(t.server_id != self._server_id for t in q) for q in queues.values()):
            live = await self._live_servers(now)
            if live is not None:
                live = live | {self._server_id} if self._server_id is not None else live
                for key, queue in queues.items():
                    discard += [t for t in queue if t.server_id not in live]
                    queues[key] = [t for t in queue if t.server_id in live]
        made = 0
        for key, queue in queues.items():
            if len(queue) >= 2:
                made += await self._match_queue(RULES[key], queue, now)
        matched = self._matched_now
        self._left_open = sum(1 for q in queues.values() for t in q if t.user_id not in matched)
        if discard:
            await asyncio.gather(*(self._db.delete_ticket(t) for t in discard))
        return made

    async def _live_servers(self, now: int) -> set[int] | None:
        """Ids of the region's live servers (their players' tickets are worth matching),
        read at most once per freshness/3; None when unknown."""
        if self._live is None or now - self._live[0] > self._freshness_ms // 3:
            try:
                servers = await self._db.list_live_servers(self.region, now_ms=now, freshness_ms=self._freshness_ms)
            except DatabaseError as exc:
                log.warning("live servers unknown; matching every ticket", error=str(exc))
                return None
            self._live = (now, {s.server_id for s in servers})
        return self._live[1]

    async def _match_queue(self, rule: QueueRule, queue: list[MatchTicket], now: int) -> int:
        pool = queue
        made = 0
        spare_ids: list[int] = []  # ids of lost claims: nothing was written with them
        for _ in range(MAX_CLAIM_ATTEMPTS):
            matches = form_matches(pool, rule, self._windows, now, partial_after_ms=self._partial_after_ms)
            if not matches:
                break
            lost: set[int] = set()
            done: set[int] = set()
            # The matches of one forming share no ticket: many are claimed in one
            # transaction (one request per claim made a round of 317 duels last 29 s on
            # the embedded endpoint, and the queue grew while it ran). A few batches run
            # side by side against a remote DynamoDB.
            gate = asyncio.Semaphore(PARALLEL_CLAIMS)
            outcomes = await asyncio.gather(
                *(self._claim_and_place(gate, batch, spare_ids, lost, done) for batch in claim_batches(matches)),
                return_exceptions=True,
            )
            made += sum(outcome for outcome in outcomes if isinstance(outcome, int))
            failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if failure is not None:
                raise failure  # as before: the round ends on a database failure
            if not lost:
                break
            # A lost batch claimed none of its matches: they form again without the lost players.
            pool = [t for t in pool if t.user_id not in lost and t.user_id not in done]
        return made

    async def _claim_and_place(
        self,
        gate: asyncio.Semaphore,
        batch: Sequence[FormedMatch],
        spare_ids: list[int],
        lost: set[int],
        done: set[int],
    ) -> int:
        """Claim a batch of matches in one transaction (at most PARALLEL_CLAIMS batches at
        once) and host their games; how many were placed."""
        async with gate:
            game_ids = [spare_ids.pop() if spare_ids else await self._db.next_id("game") for _ in batch]
            try:
                await self._db.claim_matches([(m.tickets, g) for m, g in zip(batch, game_ids, strict=True)])
            except TicketAlreadyClaimed as exc:
                spare_ids.extend(game_ids)
                self.claims_lost += 1
                lost.update(exc.user_ids or [u for m in batch for u in m.user_ids])
                return 0
            for match in batch:
                done.update(match.user_ids)
            # Side by side: placing on another server is a request each (`_place` logs
            # and gives back what fails, it never raises).
            placed = await asyncio.gather(*(self._place(m, g) for m, g in zip(batch, game_ids, strict=True)))
            return sum(placed)

    async def _place(self, match: FormedMatch, game_id: int) -> bool:
        """Host a claimed match's game; True when it was placed."""
        try:
            await self._placement.place(match, game_id)
        except PlayersGone as exc:
            await self._give_back([t for t in match.tickets if t.user_id not in exc.user_ids], game_id)
            await asyncio.gather(*(self._db.delete_ticket(t) for t in match.tickets if t.user_id in exc.user_ids))
            return False
        except Exception:
            log.exception("match not placed; tickets go back to the queue", game_id=game_id)
            await self._give_back(match.tickets, game_id)
            return False
        self.matches_made += 1
        self._matched_now.update(match.user_ids)
        return True

    async def _give_back(self, tickets: Sequence[MatchTicket], game_id: int) -> None:
        try:
            await self._db.release_tickets(tickets, game_id)
        except DatabaseError as exc:
            log.error("claimed tickets not given back", error=str(exc))


def claim_batches(matches: Sequence[FormedMatch]) -> list[list[FormedMatch]]:
    """The matches in forming order (oldest anchors first), in batches of at most
    CLAIM_BATCH_TICKETS tickets: one transaction each."""
    batches: list[list[FormedMatch]] = []
    size = 0
    for match in matches:
        if not batches or size + len(match.tickets) > CLAIM_BATCH_TICKETS:
            batches.append([])
            size = 0
        batches[-1].append(match)
        size += len(match.tickets)
    return batches


def open_tickets_by_queue(
    tickets: Sequence[MatchTicket],
) -> tuple[dict[str, list[MatchTicket]], list[MatchTicket]]:
    """The tickets that may be matched, by queue, and the ones to delete.

    One open ticket per player, the newest (an older one is left over from a
    queue the player replaced on another server). A player with a matched ticket
    still present was matched moments ago: none of their tickets is open now.
    """
    busy = {t.user_id for t in tickets if t.matched_game_id is not None}
    newest: dict[int, MatchTicket] = {}
    discard: list[MatchTicket] = []
    for t in sorted(tickets, key=lambda t: (t.enqueued_at_ms, t.user_id)):
        if t.matched_game_id is not None or t.user_id in busy or t.queue_key not in RULES:
            continue
        older = newest.get(t.user_id)
        if older is not None:
            discard.append(older)
        newest[t.user_id] = t
    queues: dict[str, list[MatchTicket]] = {}
    for t in newest.values():
        queues.setdefault(t.queue_key, []).append(t)
    return queues, discard
