"""What a matchmade duel asks of DynamoDB (issue 22), over real connections against the
embedded endpoint: queueing reads no user item, the result's rows, replay, ratings and
boards go out together, and a stale rating copy is re-rated, never written over a newer
rating. Counts of requests are behaviour here (which requests are made), not timing."""

from __future__ import annotations

import collections

import aiohttp
import pytest
from queueing import DUEL, duel_sides, join, lose_into_the_wall, match_found, queue, set_rating

from snaketron.game_server import GameServer
from snaketron.leaderboard.listener import LeaderboardUpdater


@pytest.fixture
async def server(start_server) -> GameServer:
    return await start_server(matcher_interval_ms=250, match_poll_ms=100, matchmade_start_delay_ms=200)


class Requests:
    """Counts the requests the data layer's client sends, per operation and table."""

    def __init__(self, db) -> None:
        self.seen: collections.Counter[tuple[str, str]] = collections.Counter()
        self._db = db
        self._call = db.client.call

        async def counting(operation: str, **params):
            table = params.get("TableName") or ",".join(params.get("RequestItems", {})) or "-"
            self.seen[(operation, table)] += 1
            return await self._call(operation, **params)

        db.client.call = counting

    def count(self, operation: str) -> int:
        return sum(n for (op, _), n in self.seen.items() if op == operation)

    def restore(self) -> None:
        self._db.client.call = self._call


@pytest.fixture
def requests(db):
    counter = Requests(db)
    yield counter
    counter.restore()


async def test_queueing_reads_no_user_item_and_a_lone_match_reads_the_queue_once(server, players, db, requests):
    ann, bob = await players.new(), await players.new()
    requests.seen.clear()
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    game_id = await match_found(ann)
    assert await match_found(bob) == game_id
    assert requests.count("get_item") == 0, requests.seen  # the ticket carries the sign-in's copy
    matcher = server.matchmaking.matcher
    assert matcher is not None
    # The round that matched them left nobody waiting: the next round waits for a nudge
    # (or the idle interval) instead of reading the queues again at once.
    assert not matcher.last_tickets_open()


async def test_a_rated_duel_writes_rows_replay_ratings_and_boards_in_one_transaction(server, players, db, requests):
    ann, bob = await players.new(), await players.new()
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    game_id = await match_found(ann)
    assert await match_found(bob) == game_id
    first = await join(ann, game_id)
    await join(bob, game_id)
    winner, loser = duel_sides(first, ann, bob)
    await db.flush()  # the start's writes are out: what follows is the end's
    requests.seen.clear()
    await lose_into_the_wall(loser, first, ann, bob)
    result = await server.rooms.games[game_id].wait_result(timeout_s=10)
    updater = next(x for x in server.rooms.listeners if isinstance(x, LeaderboardUpdater))
    await updater.idle()

    # One read of the boards, one transaction for everything the end changes; the
    # listener had nothing left to do, and nothing went through the batch writer.
    assert requests.count("batch_get_item") == 1, requests.seen
    assert requests.count("transact_write_items") == 1, requests.seen
    assert requests.count("batch_write_item") == 0, requests.seen
    assert result is not None and result.player(winner.user_id).mmr_after > 1000

    # Readable at once, with no flush: the game, its replay, the boards, the ratings.
    async with aiohttp.ClientSession(server.api_url) as http:
        async with http.get(f"/api/games/{game_id}/replay") as response:
            assert response.status == 200, await response.text()
        async with http.get(f"/api/games/{game_id}") as response:
            summary = await response.json()
            assert response.status == 200, summary
        async with http.get("/api/leaderboard", params={"game_type": "duel"}) as response:
            board = {e["username"]: e for e in (await response.json())["entries"]}
    assert board[winner.username]["wins"] == 1 and board[loser.username]["losses"] == 1
    assert board[winner.username]["mmr"] == (await db.get_user(winner.user_id)).mmr


async def test_a_stale_rating_copy_is_rated_again_from_the_stored_rating(server, players, db):
    """Ann's session read her rating at sign-in; a game elsewhere then moved it (1400
    after 5 games). Her ticket carries the stale copy, so the result's guarded write is
    refused, and the room reads her rating again and rates the game from it."""
    ann, bob = await players.new(), await players.new()
    await set_rating(db, ann.user_id, ann.username, 1400)
    moved = await db.get_user(ann.user_id)
    await db.client.call(
        "update_item",
        TableName=db.tables.main,
        Key={"pk": {"S": f"USER#{ann.user_id}"}, "sk": {"S": "META"}},
        UpdateExpression="SET gamesPlayed = :n",
        ExpressionAttributeValues={":n": {"N": "5"}},
    )
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    game_id = await match_found(ann, timeout=10)
    assert await match_found(bob, timeout=10) == game_id
    first = await join(ann, game_id)
    await join(bob, game_id)
    _, loser = duel_sides(first, ann, bob)
    await lose_into_the_wall(loser, first, ann, bob)
    result = await server.rooms.games[game_id].wait_result(timeout_s=10)

    stored = await db.get_user(ann.user_id)
    assert stored.games_played == 6  # counted on top of the stored 5, not the copy's 0
    assert result is not None
    mine = result.player(ann.user_id)
    assert mine.mmr_before == moved.mmr == 1400
    assert mine.mmr_after == stored.mmr
    assert abs(stored.mmr - 1400) < 200  # moved from 1400, not from the copy's 1000
    # The player rows say the same.
    game = await db.get_game(game_id)
    row = next(p for p in game.players if p.user_id == ann.user_id)
    assert (row.mmr_before, row.mmr_after) == (1400, stored.mmr)
