"""The matcher against the embedded endpoint: claims, leases, windows in time.

These drive `Matcher` directly with a placement that only records, so the time a
round sees can be given (`run_round(now_ms=...)`) instead of waited for.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from snaketron.db import open_database
from snaketron.db.errors import TicketAlreadyClaimed
from snaketron.db.models import MatchTicket, ServerRecord
from snaketron.matchmaking import FormedMatch, Matcher, WindowSchedule
from snaketron.matchmaking.placement import PlayersGone

REGION = "mm-test"
WINDOWS = WindowSchedule.parse("0:100,5000:250,10000:500,20000:1000")
LIVE_SERVER = 7


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class RecordingPlacement:
    def __init__(self, gone: set[int] = frozenset()) -> None:
        self.placed: list[tuple[int, list[int]]] = []
        self.gone = set(gone)

    async def place(self, match: FormedMatch, game_id: int) -> None:
        gone = self.gone & set(match.user_ids)
        if gone:
            raise PlayersGone(gone)
        self.placed.append((game_id, match.user_ids))


def matcher(db, placement, *, owner: str = "m1", lease: str | None = None, **options) -> Matcher:
    return Matcher(
        db,
        placement,
        region=REGION,
        owner=owner,
        windows=WINDOWS,
        partial_after_ms=10_000,
        lease=lease,
        **options,
    )


def ticket(user_id: int, mmr: int = 1000, *, at: int, queue: str = "ffa2", server: int = LIVE_SERVER) -> MatchTicket:
    return MatchTicket(
        region=REGION,
        queue_key=queue,
        user_id=user_id,
        username=f"u{user_id}",
        mmr=mmr,
        server_id=server,
        enqueued_at_ms=at,
    )


@pytest.fixture
async def live(db) -> int:
    """A registered, heartbeating server for the tickets to name."""
    t = now_ms()
    await db.register_server(
        ServerRecord(
            server_id=LIVE_SERVER,
            region=REGION,
            ws_url="ws://x",
            api_url="http://x",
            last_heartbeat_ms=t,
            created_at_ms=t,
        )
    )
    return t


async def put(db, *tickets: MatchTicket) -> None:
    await asyncio.gather(*(db.put_ticket(t, ttl_seconds=600) for t in tickets))


async def test_two_matchers_at_once_never_double_match(db, settings, live):
    users = range(1, 41)
    await put(db, *(ticket(u, at=live - 1000 + u) for u in users))
    first, second = RecordingPlacement(), RecordingPlacement()
    # Two leases and two clients: both matchers are active at once, on one table, as
    # two processes would be.
    async with open_database(settings) as other_db:
        one = matcher(db, first, owner="a", lease="matcher#a")
        two = matcher(other_db, second, owner="b", lease="matcher#b")
        for _ in range(4):
            await asyncio.gather(one.run_round(now_ms=live), two.run_round(now_ms=live))
    placed = first.placed + second.placed
    seated = [u for _, members in placed for u in members]
    assert sorted(seated) == list(users), "every player in exactly one game"
    assert len({game_id for game_id, _ in placed}) == len(placed) == 20
    assert one.claims_lost + two.claims_lost > 0, "the matchers did compete for the same tickets"
    # The tickets say the same: each is matched to the game its player was placed in.
    game_of = {u: game_id for game_id, members in placed for u in members}
    stored = await db.list_region_tickets(REGION, now_ms=live)
    assert {t.user_id: t.matched_game_id for t in stored} == game_of


async def test_a_lost_claim_is_retried_without_the_claimed_player(db, live):
    a, b, c = ticket(1, at=live - 300), ticket(2, at=live - 200), ticket(3, at=live - 100)
    await put(db, a, b, c)
    stale = await db.list_region_tickets(REGION, now_ms=live)
    await db.claim_matches([([a], 999_999)])  # another matcher got there first

    class StaleReads:
        """The real table, but a ticket listing from before the other claim."""

        def __getattr__(self, name):
            return getattr(db, name)

        async def list_region_tickets(self, region, *, now_ms):
            return stale

    placement = RecordingPlacement()
    made = await matcher(StaleReads(), placement).run_round(now_ms=live)
    assert made == 1
    assert placement.placed[0][1] == [2, 3]
    assert (await db.list_region_tickets(REGION, now_ms=live))[0].matched_game_id == 999_999


class CountedClaims:
    """The real table; counts the claim transactions and the matches in each."""

    def __init__(self, db) -> None:
        self.db = db
        self.batches: list[int] = []

    def __getattr__(self, name):
        return getattr(self.db, name)

    async def claim_matches(self, claims):
        self.batches.append(len(claims))
        await self.db.claim_matches(claims)


async def test_a_round_claims_its_matches_in_batches(db, live):
    """Matches of one forming share no ticket: up to 100 tickets are claimed in one transaction."""
    await put(db, *(ticket(u, at=live - 1000 + u) for u in range(1, 121)))
    counted = CountedClaims(db)
    placement = RecordingPlacement()
    assert await matcher(counted, placement).run_round(now_ms=live) == 60
    assert sorted(counted.batches) == [10, 50]
    assert sorted(u for _, members in placement.placed for u in members) == list(range(1, 121))
    assert len({game_id for game_id, _ in placement.placed}) == 60
    # The tickets say the same: each is matched to the game its player was placed in.
    game_of = {u: game_id for game_id, members in placement.placed for u in members}
    stored = await db.list_region_tickets(REGION, now_ms=live)
    assert {t.user_id: t.matched_game_id for t in stored} == game_of


async def test_a_lost_ticket_costs_its_batch_one_attempt_and_no_one_else_a_game(db, live):
    """A ticket withdrawn after the round's read fails its whole batch: nothing of the
    batch is written, and the other matches form again, without that player, in the
    same round."""
    await put(db, *(ticket(u, at=live - 1000 + u) for u in range(1, 21)))
    stale = await db.list_region_tickets(REGION, now_ms=live)
    withdrawn = stale[7]
    await db.delete_ticket(withdrawn)
    await db.flush()

    class StaleReads(CountedClaims):
        async def list_region_tickets(self, region, *, now_ms):
            return stale

    reads = StaleReads(db)
    placement = RecordingPlacement()
    m = matcher(reads, placement)
    assert await m.run_round(now_ms=live) == 9
    assert m.claims_lost == 1 and reads.batches == [10, 9]
    seated = [u for _, members in placement.placed for u in members]
    assert len(seated) == len(set(seated)) == 18 and withdrawn.user_id not in seated
    stored = {t.user_id: t for t in await db.list_region_tickets(REGION, now_ms=live)}
    assert withdrawn.user_id not in stored, "a withdrawn ticket is never written back"
    game_of = {u: game_id for game_id, members in placement.placed for u in members}
    assert {u: t.matched_game_id for u, t in stored.items()} == {u: game_of.get(u) for u in stored}


async def test_a_retried_batch_claim_that_committed_is_recognised(db, live):
    """The answer of a committed claim was lost and the claim sent again: it fails on
    every ticket, each matched to the game this very claim gave it."""
    tickets = [ticket(u, at=live - 1000 + u) for u in range(1, 7)]
    await put(db, *tickets)
    claims = [(tickets[0:2], 501), (tickets[2:4], 502), (tickets[4:6], 503)]
    await db.claim_matches(claims)
    await db.claim_matches(claims)  # no TicketAlreadyClaimed
    with pytest.raises(TicketAlreadyClaimed) as lost:
        await db.claim_matches([(tickets[0:2], 504)])
    assert sorted(lost.value.user_ids) == [1, 2]


async def test_a_committed_claim_is_recognised_though_its_first_player_withdrew(db, live):
    """The answer of a committed claim was lost, and before the retry the player of its
    first ticket withdrew (deleting the matched ticket): the retry fails on every ticket,
    the first of them gone. The claim is still ours; reading only that ticket took it for
    lost and gave its game ids to other matches (review, 2026-12-07)."""
    tickets = [ticket(u, at=live - 1000 + u) for u in range(1, 5)]
    await put(db, *tickets)
    claims = [(tickets[0:2], 601), (tickets[2:4], 602)]
    await db.claim_matches(claims)
    await db.delete_ticket(tickets[0])
    await db.flush()
    await db.claim_matches(claims)  # no TicketAlreadyClaimed: ticket 2 holds game 601
    stored = {t.user_id: t.matched_game_id for t in await db.list_region_tickets(REGION, now_ms=live)}
    assert stored == {2: 601, 3: 602, 4: 602}


async def test_a_released_ticket_of_a_player_who_withdrew_stays_gone(db, live):
    """A claimed match that cannot be placed gives its tickets back, but only those still
    matched to its game: a ticket deleted by a withdrawal is not brought back, and one
    matched to another game keeps that game (review, 2026-12-07)."""
    tickets = [ticket(u, at=live - 1000 + u) for u in range(1, 5)]
    await put(db, *tickets)
    await db.claim_matches([(tickets[0:2], 701), (tickets[2:4], 702)])
    await db.delete_ticket(tickets[0])
    await db.flush()
    released = await db.release_tickets([tickets[0], tickets[1], tickets[2]], 701)
    assert released == [2]
    stored = {t.user_id: t.matched_game_id for t in await db.list_region_tickets(REGION, now_ms=live)}
    assert stored == {2: None, 3: 702, 4: 702}


def test_claim_batches_keep_order_and_the_transaction_limit():
    from snaketron.matchmaking.matcher import CLAIM_BATCH_TICKETS, claim_batches
    from snaketron.matchmaking.queues import RULES

    def match(size: int, first: int) -> FormedMatch:
        rule = RULES[f"ffa{size}"]
        return FormedMatch(rule, tuple(ticket(first + i, at=0, queue=rule.key) for i in range(size)))

    sizes = [2, 16, 6, 16, 16, 16, 16, 16, 3, 2, 2, 16, 5]
    matches = [match(size, 100 * i) for i, size in enumerate(sizes)]
    batches = claim_batches(matches)
    assert [m for b in batches for m in b] == matches
    assert all(0 < sum(len(m.tickets) for m in b) <= CLAIM_BATCH_TICKETS for b in batches)
    # Each batch is as full as the next match allows.
    for b, after in itertools.pairwise(batches):
        assert sum(len(m.tickets) for m in b) + len(after[0].tickets) > CLAIM_BATCH_TICKETS
    assert claim_batches([]) == []


async def test_players_gone_at_placement_free_the_others(db, live):
    await put(db, ticket(1, at=live - 200), ticket(2, at=live - 100))
    placement = RecordingPlacement(gone={1})
    assert await matcher(db, placement).run_round(now_ms=live) == 0
    await db.flush()
    left = await db.list_region_tickets(REGION, now_ms=live)
    assert [(t.user_id, t.matched_game_id) for t in left] == [(2, None)]


async def test_windows_widen_with_waiting_time(db, live):
    t0 = live - 60_000
    await put(
        db,
        ticket(1, 1000, at=t0),
        ticket(2, 1200, at=t0 + 1),  # 200 apart: ±250 from 5 s
        ticket(3, 3000, at=t0 + 2),
        ticket(4, 3400, at=t0 + 3),  # 400 apart: ±500 from 10 s
        ticket(5, 6000, at=t0 + 4),
        ticket(6, 6900, at=t0 + 5),  # 900 apart: ±1000 from 20 s
    )
    placement = RecordingPlacement()
    m = matcher(db, placement)
    for waited, expected in ((4_999, []), (5_000, [[1, 2]]), (10_002, [[3, 4]]), (19_999, []), (20_004, [[5, 6]])):
        before = len(placement.placed)
        await m.run_round(now_ms=t0 + waited)
        assert [members for _, members in placement.placed[before:]] == expected, waited


async def test_free_for_all_forms_with_fewer_after_ten_seconds(db, live):
    t0 = live - 60_000
    await put(db, *(ticket(u, at=t0 + u, queue="ffa4") for u in (1, 2, 3)))
    placement = RecordingPlacement()
    m = matcher(db, placement)
    await m.run_round(now_ms=t0 + 9_000)
    assert placement.placed == []
    await m.run_round(now_ms=t0 + 10_001)
    assert [sorted(members) for _, members in placement.placed] == [[1, 2, 3]]


async def test_tickets_of_dead_servers_are_not_matched_and_are_removed(db, live):
    await put(db, ticket(1, at=live - 200, server=LIVE_SERVER), ticket(2, at=live - 100, server=12345))
    placement = RecordingPlacement()
    assert await matcher(db, placement).run_round(now_ms=live) == 0
    await db.flush()
    assert [t.user_id for t in await db.list_region_tickets(REGION, now_ms=live)] == [1]


async def test_one_matcher_holds_the_lease_and_a_standby_takes_over_when_it_dies(db, live):
    timing = {"interval_ms": 100, "idle_interval_ms": 300, "lease_ms": 1_000}
    holder = matcher(db, RecordingPlacement(), owner="holder", **timing)
    standby = matcher(db, RecordingPlacement(), owner="standby", **timing)
    holder.start()
    await holder.wait_rounds(1, timeout_s=5)
    standby.start()
    await holder.wait_rounds(5, timeout_s=5)
    assert holder.is_active() and not standby.is_active()
    assert standby.rounds == 0
    died = time.monotonic()
    await holder.stop(release=False)  # dies: the lease runs out by itself
    await standby.wait_rounds(1, timeout_s=5)
    took_over_s = time.monotonic() - died
    assert standby.is_active()
    assert took_over_s < 3, took_over_s
    # A server that stops cleanly hands the lease over at once.
    replacement = matcher(db, RecordingPlacement(), owner="replacement", **timing)
    replacement.start()
    await standby.stop()
    handed = time.monotonic()
    await replacement.wait_rounds(1, timeout_s=5)
    assert time.monotonic() - handed < 1
    await replacement.stop()


async def test_rounds_go_on_while_the_lease_renews_and_stop_cancels_the_renewal(db, live):
    """A held lease is renewed beside the rounds (a renewal waiting in a busy endpoint's
    line no longer holds a round back); stopping cancels a renewal in flight, so it
    cannot take the released lease back."""
    renewing, gate = asyncio.Event(), asyncio.Event()

    class HangingRenewals:
        calls = 0

        def __getattr__(self, name):
            return getattr(db, name)

        async def acquire_lease(self, name, owner, *, now_ms, duration_ms):
            self.calls += 1
            if self.calls > 1:  # the first takes the lease; renewals hang
                renewing.set()
                await gate.wait()
            return await db.acquire_lease(name, owner, now_ms=now_ms, duration_ms=duration_ms)

    m = matcher(HangingRenewals(), RecordingPlacement(), interval_ms=20, idle_interval_ms=20, lease_ms=2_000)
    m.start()
    await asyncio.wait_for(renewing.wait(), 10)
    await m.wait_rounds(3, 10)
    assert m.is_active()
    await m.stop()
    gate.set()
    taken = await db.acquire_lease(m.lease, "standby", now_ms=now_ms(), duration_ms=5_000)
    assert taken.owner == "standby"
