"""Every access pattern of docs/DATA_MODEL.md against the embedded endpoint."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from snaketron.config import ConfigError
from snaketron.db import open_database
from snaketron.db.codec import from_item, to_item
from snaketron.db.errors import (
    DatabaseUnavailable,
    GameCodeTaken,
    InvalidRequest,
    LeaseHeld,
    NotFound,
    RatingConflict,
    TicketAlreadyClaimed,
    UsernameTaken,
)
from snaketron.db.models import (
    GamePlayerRecord,
    GameRecord,
    LobbyRecord,
    MatchTicket,
    RatingUpdate,
    ServerRecord,
    SpectatorRecord,
)
from support.dynamo_settings import make_settings

# "Now" for the test, in epoch ms: methods without a now_ms argument read the wall clock.
NOW = time.time_ns() // 1_000_000 // 1000 * 1000


def server(
    server_id: int, *, region: str = "eu", games: int = 0, players: int = 0, hb: int = NOW, **kw
) -> ServerRecord:
    return ServerRecord(
        server_id=server_id,
        region=region,
        ws_url=f"ws://s{server_id}",
        api_url=f"http://s{server_id}",
        current_game_count=games,
        current_player_count=players,
        last_heartbeat_ms=hb,
        created_at_ms=hb,
        **kw,
    )


def game(game_id: int, **kw) -> GameRecord:
    values = {
        "server_id": 1,
        "game_type": {"FreeForAll": {"max_players": 4}},
        "game_mode": "matchmaking",
        "created_at_ms": NOW,
        "updated_at_ms": NOW,
    }
    values.update(kw)
    return GameRecord(game_id=game_id, **values)


# --- servers -------------------------------------------------------------------------


async def test_server_register_heartbeat_status_and_listing(db):
    await db.register_server(server(1, hb=NOW - 60_000))  # stale
    await db.register_server(server(2, games=3, players=9))
    await db.register_server(server(3, games=1, players=2))
    await db.register_server(server(4, region="us"))

    live = await db.list_live_servers("eu", now_ms=NOW + 1_000, freshness_ms=15_000)
    assert sorted(s.server_id for s in live) == [2, 3]

    # A heartbeat revives server 1; a draining server is still listed, with its status.
    await db.heartbeat_server(1, "eu", game_count=0, player_count=0, now_ms=NOW + 2_000)
    await db.set_server_status(3, "draining")
    live = await db.list_live_servers("eu", now_ms=NOW + 2_000, freshness_ms=15_000)
    assert {s.server_id: s.status for s in live} == {1: "active", 2: "active", 3: "draining"}
    got = await db.get_server(1)
    assert got.last_heartbeat_ms == NOW + 2_000 and got.current_game_count == 0
    assert (await db.get_server(3)).status == "draining"

    with pytest.raises(NotFound):
        await db.heartbeat_server(99, "eu", game_count=0, player_count=0, now_ms=NOW)
    with pytest.raises(NotFound):
        await db.set_server_status(99, "offline")
    assert await db.list_live_servers("mars", now_ms=NOW, freshness_ms=15_000) == []


async def test_expired_server_is_absent(db):
    # Heartbeat 2 h ago: ttl (heartbeat + 1 h) has passed although the endpoint keeps the item.
    now = db._clock()
    await db.register_server(server(8, hb=now - 2 * 3_600_000))
    with pytest.raises(NotFound):
        await db.get_server(8)
    assert await db.list_live_servers("eu", now_ms=now, freshness_ms=3 * 3_600_000) == []


# --- users -----------------------------------------------------------------------------


async def test_user_create_get_and_case_insensitive_name(db):
    alice = await db.create_user("Alice", "hash-1", now_ms=NOW)
    assert alice.user_id > 0 and alice.mmr == 1000
    assert await db.get_user(alice.user_id) == alice
    by_name = await db.get_user_by_username("aLiCe")
    assert by_name.user_id == alice.user_id and by_name.username == "Alice"
    with pytest.raises(UsernameTaken):
        await db.create_user("ALICE", "hash-2", now_ms=NOW)
    with pytest.raises(NotFound):
        await db.get_user_by_username("bob")
    with pytest.raises(NotFound):
        await db.get_user(123_456)


async def test_password_rehash_updates_both_copies(db, settings):
    bob = await db.create_user("Bob", "bcrypt-hash", now_ms=NOW)
    await db.update_password_hash(bob.user_id, "BOB", "argon2-hash")
    assert (await db.get_user(bob.user_id)).password_hash == "argon2-hash"
    claim = await db.client.call(
        "get_item", TableName=db.tables.usernames, Key=to_item({"username": "bob"}), ConsistentRead=True
    )
    assert claim["Item"]["passwordHash"] == {"S": "argon2-hash"}
    with pytest.raises(NotFound):
        await db.update_password_hash(bob.user_id, "somebody-else", "x")


async def test_update_ratings_changes_user_and_usernames_copy_together(db):
    a = await db.create_user("Ann", "h", now_ms=NOW)
    b = await db.create_user("Ben", "h", now_ms=NOW)
    await db.update_ratings(
        [
            RatingUpdate(user_id=a.user_id, username="Ann", mmr=1016, rating_mu=26.1, rating_sigma=8.0, games_played=1),
            RatingUpdate(user_id=b.user_id, username="Ben", mmr=984, rating_mu=23.9, rating_sigma=8.0, games_played=1),
        ]
    )
    ann = await db.get_user_by_username("ann")
    assert (ann.mmr, ann.rating_mu, ann.games_played) == (1016, 26.1, 1)
    claim = await db.client.call("get_item", TableName=db.tables.usernames, Key=to_item({"username": "ben"}))
    assert claim["Item"]["mmr"] == {"N": "984"}
    # One unknown user cancels the whole transaction: Ann keeps her rating.
    with pytest.raises(NotFound):
        await db.update_ratings(
            [
                RatingUpdate(user_id=a.user_id, username="Ann", mmr=2000, rating_mu=1, rating_sigma=1, games_played=2),
                RatingUpdate(user_id=999_999, username="ghost", mmr=1, rating_mu=1, rating_sigma=1, games_played=1),
            ]
        )
    assert (await db.get_user(a.user_id)).mmr == 1016


async def test_a_rating_write_lands_only_over_the_rating_it_was_computed_from(db):
    """The guard that lets a ticket carry the session's copy of a rating: a new rating
    computed from a copy that went stale (another game was rated since) is refused,
    whole, and names whose copy was stale."""
    a = await db.create_user("Ada", "h", now_ms=NOW)
    b = await db.create_user("Bea", "h", now_ms=NOW)

    def update(user, mmr: int, played: int, before: int) -> RatingUpdate:
        return RatingUpdate(
            user_id=user.user_id,
            username=user.username,
            mmr=mmr,
            rating_mu=25.0,
            rating_sigma=8.0,
            games_played=played,
            games_played_before=before,
        )

    # A new account may carry no gamesPlayed yet: 0 is its version.
    await db.update_ratings([update(a, 1016, 1, 0), update(b, 984, 1, 0)])
    with pytest.raises(RatingConflict) as refused:
        await db.update_ratings([update(a, 1100, 1, 0), update(b, 900, 2, 1)])  # Ada's copy is stale
    assert refused.value.user_ids == (a.user_id,)
    assert ((await db.get_user(a.user_id)).mmr, (await db.get_user(b.user_id)).mmr) == (1016, 984)
    await db.update_ratings([update(a, 1030, 2, 1), update(b, 970, 2, 1)])
    assert (await db.get_user(a.user_id)).games_played == 2


# --- games -----------------------------------------------------------------------------


async def test_game_lifecycle_players_spectators_and_result(db):
    g = game(10)
    players = [GamePlayerRecord(game_id=10, user_id=u, username=f"p{u}", snake_id=u - 1) for u in (1, 2)]
    await db.save_game_nowait(g, players)
    await db.save_game_nowait(g, [GamePlayerRecord(game_id=10, user_id=3, username="p3", snake_id=2)])
    await db.add_spectator_nowait(SpectatorRecord(game_id=10, user_id=50, joined_at_ms=NOW))
    await db.add_spectator_nowait(SpectatorRecord(game_id=10, user_id=50, joined_at_ms=NOW + 5))  # idempotent

    full = await db.get_game(10)
    assert full.game == g
    assert sorted(p.user_id for p in full.players) == [1, 2, 3]
    assert [s.user_id for s in full.spectators] == [50]
    assert [s.user_id for s in await db.list_spectators(10)] == [50]

    await db.update_game_status(10, "started", now_ms=NOW + 3_000, started_at_ms=NOW + 3_000)
    started = (await db.get_game(10)).game
    assert started.status == "started" and started.started_at_ms == NOW + 3_000
    with pytest.raises(InvalidRequest):
        await db.update_game_status(10, "started", now_ms=NOW, server_id=5)
    with pytest.raises(NotFound):
        await db.update_game_status(404, "started", now_ms=NOW)

    final = game(10, status="complete", started_at_ms=NOW + 3_000, ended_at_ms=NOW + 60_000, final_tick=570)
    final.winner_user_id = 2
    results = [
        GamePlayerRecord(game_id=10, user_id=u, username=f"p{u}", placement=place, mmr_before=1000, mmr_after=m)
        for u, place, m in ((1, 2, 990), (2, 1, 1010), (3, 3, 1000))
    ]
    await db.record_result(final, results)
    done = await db.get_game(10)
    assert done.game.status == "complete" and done.game.winner_user_id == 2 and done.game.final_tick == 570
    assert {p.user_id: p.placement for p in done.players} == {1: 2, 2: 1, 3: 3}
    with pytest.raises(NotFound):
        await db.get_game(404)


async def test_games_by_status_newest_first_with_pagination(db):
    for i in range(7):
        await db.save_game_nowait(game(100 + i, created_at_ms=NOW + i, updated_at_ms=NOW + i))
    for i in range(3):
        await db.update_game_status(100 + i, "started", now_ms=NOW + 100 + i)

    seen, cursor = [], None
    while True:
        page = await db.list_games_by_status("waiting", limit=2, cursor=cursor)
        seen += [g.game_id for g in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == [106, 105, 104, 103]
    started = await db.list_games_by_status("started")
    assert [g.game_id for g in started.items] == [102, 101, 100]
    assert (await db.list_games_by_status("abandoned")).items == []
    with pytest.raises(InvalidRequest):
        await db.list_games_by_status("waiting", cursor="not-a-cursor")


async def test_games_of_a_server(db):
    await db.save_game_nowait(game(1, server_id=7))
    await db.save_game_nowait(game(2, server_id=7))
    await db.save_game_nowait(game(3, server_id=8))
    await db.update_game_status(2, "started", now_ms=NOW + 1)
    mine = await db.list_games_of_server(7, ["waiting", "started"])
    assert sorted(g.game_id for g in mine) == [1, 2]
    assert await db.list_games_of_server(7, ["complete"]) == []


async def test_game_code_claim_follows_the_game_status(db):
    await db.create_lobby(lobby("ABCD1234", 20), is_private=True)
    await db.save_game_nowait(game(20, game_mode="custom", game_code="ABCD1234", is_private=True))
    code = await db.get_game_code("ABCD1234", now_ms=NOW)
    assert code == {"gameCode": "ABCD1234", "gameId": 20, "isPrivate": True, "status": "waiting"}
    await db.update_game_status(20, "started", now_ms=NOW + 1)
    assert (await db.get_game_code("ABCD1234", now_ms=NOW))["status"] == "started"
    # The code now belongs to another lobby's game: a late status of game 20 leaves it alone.
    later = NOW + 2 * 3_600_000
    with pytest.raises(NotFound):
        await db.get_game_code("ABCD1234", now_ms=later)
    await db.create_lobby(lobby("ABCD1234", 22, at=later), is_private=True)
    await db.update_game_status(20, "complete", now_ms=later)
    assert await db.get_game_code("ABCD1234", now_ms=later) == {
        "gameCode": "ABCD1234",
        "gameId": 22,
        "isPrivate": True,
        "status": "waiting",
    }


# --- lobbies -------------------------------------------------------------------------------


def lobby(code: str, game_id: int, *, at: int = NOW) -> LobbyRecord:
    return LobbyRecord(
        game_code=code,
        game_id=game_id,
        host_user_id=1,
        settings={"arena_width": 40, "tick_duration_ms": 100},
        created_at_ms=at,
        expires_at_ms=at + 3_600_000,
    )


async def test_lobby_lifecycle_and_expiry(db):
    await db.create_lobby(lobby("LOBBY001", 30), is_private=False)
    got = await db.get_lobby("LOBBY001", now_ms=NOW)
    assert got.game_id == 30 and got.settings["arena_width"] == 40
    with pytest.raises(GameCodeTaken):
        await db.create_lobby(lobby("LOBBY001", 31), is_private=False)

    await db.update_lobby("LOBBY001", now_ms=NOW + 600_000, ttl_seconds=3_600, host_user_id=2, state="started")
    got = await db.get_lobby("LOBBY001", now_ms=NOW + 600_000)
    assert (got.host_user_id, got.state, got.expires_at_ms) == (2, "started", NOW + 600_000 + 3_600_000)
    code = await db.get_game_code("LOBBY001", now_ms=NOW + 600_000)
    assert code["status"] == "started"
    # Still live 1 h after creation because the update pushed the expiry out.
    assert (await db.get_lobby("LOBBY001", now_ms=NOW + 3_700_000)).game_id == 30
    with pytest.raises(NotFound):
        await db.get_lobby("LOBBY001", now_ms=NOW + 600_000 + 3_600_000)
    with pytest.raises(InvalidRequest):
        await db.update_lobby("LOBBY001", now_ms=NOW, ttl_seconds=60, colour="red")

    await db.delete_lobby("LOBBY001")
    with pytest.raises(NotFound):
        await db.get_lobby("LOBBY001", now_ms=NOW)
    with pytest.raises(NotFound):
        await db.get_game_code("LOBBY001", now_ms=NOW)
    with pytest.raises(NotFound):
        await db.update_lobby("LOBBY001", now_ms=NOW, ttl_seconds=60, state="closed")


async def test_a_lobby_refused_as_invalid_is_no_code_collision(db):
    """A transaction cancelled for a ValidationError (here a number DynamoDB cannot store)
    is reported as such after one request, not as a taken code worth another draw."""
    refused = msgspec.structs.replace(lobby("BIGNUM01", 33), settings={"food_spawn_rate": 1e200})
    transactions, reads = db.metrics.requests["transact_write_items"], db.metrics.requests["get_item"]
    with pytest.raises(InvalidRequest, match="refused as invalid"):
        await db.create_lobby(refused, is_private=False)
    assert db.metrics.requests["transact_write_items"] == transactions + 1
    assert db.metrics.requests["get_item"] == reads, "a refused item is not a claim to look up"
    with pytest.raises(NotFound):
        await db.get_game_code("BIGNUM01", now_ms=NOW)
    await db.create_lobby(lobby("BIGNUM01", 33), is_private=False)  # the code was never taken


async def test_lobby_update_by_its_owner_is_one_request(db):
    await db.create_lobby(lobby("LOBBY002", 32), is_private=False)
    before = sum(db.metrics.requests.values())
    assert await db.update_lobby("LOBBY002", now_ms=NOW + 1_000, ttl_seconds=3_600, owner_game_id=32, state="started")
    assert sum(db.metrics.requests.values()) == before + 1
    assert (await db.get_lobby("LOBBY002", now_ms=NOW + 1_000)).state == "started"
    assert (await db.get_game_code("LOBBY002", now_ms=NOW + 1_000))["status"] == "started"

    # A caller wrong about the owner still updates the lobby, and leaves the claim alone.
    claimed = await db.update_lobby(
        "LOBBY002", now_ms=NOW + 2_000, ttl_seconds=3_600, owner_game_id=99, state="waiting"
    )
    assert claimed is False
    assert (await db.get_lobby("LOBBY002", now_ms=NOW + 2_000)).state == "waiting"
    assert (await db.get_game_code("LOBBY002", now_ms=NOW + 2_000))["status"] == "started"

    with pytest.raises(NotFound):
        await db.update_lobby("NOSUCH02", now_ms=NOW, ttl_seconds=60, owner_game_id=32, state="started")


async def _raw(db, table: str, key: dict) -> dict:
    response = await db.client.call("get_item", TableName=table, Key=to_item(key), ConsistentRead=True)
    return from_item(response["Item"])


async def test_lobby_start_as_whole_item_puts_leaves_what_the_update_leaves(db):
    """`put_lobby_nowait` (a custom game's start) writes through the batch writer, no
    transaction, and leaves the very items the conditional `update_lobby` would."""
    start_ms = NOW + 60_000
    settings = {"arena_width": 50, "tick_duration_ms": 100}
    await db.create_lobby(lobby("UPDATED1", 50), is_private=True)
    await db.update_lobby(
        "UPDATED1",
        now_ms=start_ms,
        ttl_seconds=3_600,
        owner_game_id=50,
        host_user_id=2,
        settings=settings,
        state="started",
    )
    await db.create_lobby(lobby("PUTLOBBY", 51), is_private=True)
    started = LobbyRecord(
        game_code="PUTLOBBY",
        game_id=51,
        host_user_id=2,
        settings=settings,
        state="started",
        created_at_ms=NOW,
        expires_at_ms=start_ms + 3_600_000,
    )
    transactions = db.metrics.requests["transact_write_items"]
    await db.put_lobby_nowait(started, is_private=True)
    assert db.metrics.requests["transact_write_items"] == transactions

    assert await db.get_lobby("PUTLOBBY", now_ms=start_ms) == started
    assert await db.get_game_code("PUTLOBBY", now_ms=start_ms) == {
        "gameCode": "PUTLOBBY",
        "gameId": 51,
        "isPrivate": True,
        "status": "started",
    }
    updated = await _raw(db, db.tables.main, {"pk": "LOBBY#UPDATED1", "sk": "META"})
    put = await _raw(db, db.tables.main, {"pk": "LOBBY#PUTLOBBY", "sk": "META"})
    assert {k: v for k, v in put.items() if k not in ("pk", "gameCode", "gameId")} == {
        k: v for k, v in updated.items() if k not in ("pk", "gameCode", "gameId")
    }
    updated_claim = await _raw(db, db.tables.game_codes, {"gameCode": "UPDATED1"})
    put_claim = await _raw(db, db.tables.game_codes, {"gameCode": "PUTLOBBY"})
    assert put_claim.keys() == updated_claim.keys()
    assert (put_claim["ttl"], put_claim["status"]) == (updated_claim["ttl"], updated_claim["status"])

    # An update of an earlier join or settings change landing after the start's puts
    # moves the expiry and rewrites host and settings, never the state or the status.
    assert await db.update_lobby(
        "PUTLOBBY", now_ms=start_ms - 5, ttl_seconds=3_600, owner_game_id=51, host_user_id=2, settings=settings
    )
    assert (await db.get_lobby("PUTLOBBY", now_ms=start_ms)).state == "started"
    assert (await db.get_game_code("PUTLOBBY", now_ms=start_ms))["status"] == "started"


async def test_expired_lobby_code_can_be_claimed_again(db):
    await db.create_lobby(lobby("OLDCODE1", 40), is_private=True)
    later = NOW + 2 * 3_600_000
    with pytest.raises(NotFound):
        await db.get_lobby("OLDCODE1", now_ms=later)
    await db.create_lobby(lobby("OLDCODE1", 41, at=later), is_private=False)
    assert (await db.get_lobby("OLDCODE1", now_ms=later)).game_id == 41
    assert (await db.get_game_code("OLDCODE1", now_ms=later))["isPrivate"] is False


# --- leases ----------------------------------------------------------------------------------


async def test_lease_acquire_renew_expire_release(db):
    lease = await db.acquire_lease("matcher-eu", "server-1", now_ms=NOW, duration_ms=10_000)
    assert lease.expires_at_ms == NOW + 10_000
    with pytest.raises(LeaseHeld):
        await db.acquire_lease("matcher-eu", "server-2", now_ms=NOW + 5_000, duration_ms=10_000)
    renewed = await db.acquire_lease("matcher-eu", "server-1", now_ms=NOW + 5_000, duration_ms=10_000)
    assert renewed.expires_at_ms == NOW + 15_000
    taken = await db.acquire_lease("matcher-eu", "server-2", now_ms=NOW + 15_000, duration_ms=10_000)
    assert taken.owner == "server-2"
    await db.release_lease("matcher-eu", "server-1")  # not the owner: no effect
    with pytest.raises(LeaseHeld):
        await db.acquire_lease("matcher-eu", "server-1", now_ms=NOW + 16_000, duration_ms=10_000)
    await db.release_lease("matcher-eu", "server-2")
    assert (await db.acquire_lease("matcher-eu", "server-1", now_ms=NOW + 16_000, duration_ms=1)).owner == "server-1"


# --- match tickets -----------------------------------------------------------------------------


def ticket(user_id: int, at: int, *, server_id: int = 1, queue: str = "ffa4") -> MatchTicket:
    return MatchTicket(
        region="eu", queue_key=queue, user_id=user_id, username=f"u{user_id}", mmr=1000 + user_id,
        server_id=server_id, enqueued_at_ms=at,
    )  # fmt: skip


async def test_a_long_listing_is_read_page_by_page(db):
    """A busy region's match queue comes in pages (of TICKET_PAGE_ITEMS; smaller here, to
    keep the test short), so that parsing one never holds the event loop for long.
    Nothing is lost or repeated between pages."""
    db.ticket_page_limit = 50
    count = 50 * 2 + 10
    await asyncio.gather(*(db.put_ticket(ticket(u, NOW + u), ttl_seconds=300) for u in range(count)))
    queries_before = db.metrics.requests["query"]
    listed = await db.list_region_tickets("eu", now_ms=NOW)
    assert [t.user_id for t in listed] == list(range(count))
    assert db.metrics.requests["query"] - queries_before == 3


async def unmatched(db, queue: str = "ffa4", now_ms: int = NOW + 100) -> list[int]:
    """User ids of a queue's unmatched tickets, oldest first, as the matcher reads them."""
    tickets = await db.list_region_tickets("eu", now_ms=now_ms)
    return [t.user_id for t in tickets if t.queue_key == queue and t.matched_game_id is None]


async def test_tickets_enqueue_list_claim_and_matched_listing(db):
    t1, t2, t3 = ticket(1, NOW + 30), ticket(2, NOW + 10, server_id=2), ticket(3, NOW + 20)
    await asyncio.gather(*(db.put_ticket(t, ttl_seconds=300) for t in (t1, t2, t3)))
    await db.put_ticket(ticket(4, NOW, queue="team1"), ttl_seconds=300)
    assert await unmatched(db) == [2, 3, 1]
    assert await unmatched(db, "team1") == [4]

    await db.claim_matches([([t2, t3], 77)])
    assert await unmatched(db) == [1]
    # What a server's delivery poll looks for: its own players' matched tickets.
    matched = [t for t in await db.list_region_tickets("eu", now_ms=NOW + 100) if t.matched_game_id is not None]
    assert [(t.user_id, t.server_id, t.matched_game_id) for t in matched] == [(2, 2, 77), (3, 1, 77)]

    with pytest.raises(TicketAlreadyClaimed) as lost:
        await db.claim_matches([([t1, t3], 78)])
    assert lost.value.user_ids == (3,)
    # All or nothing: t1 stays unmatched.
    assert await unmatched(db) == [1]

    await db.delete_ticket(t1)
    assert await unmatched(db) == []
    with pytest.raises(TicketAlreadyClaimed):
        await db.claim_matches([([t1], 79)])  # deleted tickets cannot be claimed


async def test_expired_tickets_are_not_listed(db):
    await db.put_ticket(ticket(9, NOW), ttl_seconds=60)
    assert await unmatched(db, now_ms=NOW + 59_000) == [9]
    assert await unmatched(db, now_ms=NOW + 60_000) == []


# --- ids and health ----------------------------------------------------------------------------------


async def test_ids_are_unique_and_blocks_are_reserved(db, settings):
    ids = await asyncio.gather(*(db.next_id("game") for _ in range(250)))
    assert len(set(ids)) == 250 and min(ids) >= 1
    # 250 ids at 100 per block: three counter updates, not 250.
    assert db.metrics.requests["update_item"] == 3
    users = [await db.next_id("user") for _ in range(3)]
    assert users == [1, 2, 3]  # counters are per entity


async def test_ping_fails_cleanly_on_missing_tables(db, dynamo_endpoint):
    await db.ping()
    # Missing tables with creation off are the operator's to fix: a ConfigError that says how.
    with pytest.raises(ConfigError, match=r"no-such-prefix-.*SNAKETRON_CREATE_TABLES") as refused:
        async with open_database(make_settings(dynamo_endpoint, "no-such-prefix")):
            pass
    assert isinstance(refused.value.__cause__, DatabaseUnavailable)


async def test_every_listing_follows_all_pages(db):
    db.query_page_limit = db.ticket_page_limit = 2  # pages of two items: every listing below spans several
    for i in range(5):
        await db.register_server(server(20 + i, games=i))
    assert len(await db.list_live_servers("eu", now_ms=NOW, freshness_ms=15_000)) == 5
    await db.save_game_nowait(
        game(60, server_id=3), [GamePlayerRecord(game_id=60, user_id=u, username="p") for u in range(7)]
    )
    for u in range(5):
        await db.add_spectator_nowait(SpectatorRecord(game_id=60, user_id=100 + u))
    full = await db.get_game(60)
    assert (len(full.players), len(full.spectators)) == (7, 5)
    assert len(await db.list_spectators(60)) == 5
    for i in range(5):
        await db.save_game_nowait(game(61 + i, server_id=3))
    assert len(await db.list_games_of_server(3, ["waiting"])) == 6
    for u in range(5):
        await db.put_ticket(ticket(u, NOW + u), ttl_seconds=60)
    assert await unmatched(db, now_ms=NOW) == [0, 1, 2, 3, 4]
    assert db.metrics.requests["query"] >= 15
