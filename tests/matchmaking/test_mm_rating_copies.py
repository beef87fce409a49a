"""A player who queues again before their last game's result has landed carries the
new rating all the same (this server knows it from the game's end), and the next
game is rated from it, so its guarded write lands the first time (no refusal, no
re-read, no second write). Over real connections, with the server's DynamoDB
requests passing a proxy that can hold them."""

from __future__ import annotations

import pytest
from queueing import DUEL, duel_sides, join, lose_into_the_wall, match_found, queue, queued

from snaketron.game_server import GameServer
from snaketron.games import wall_clock_ms
from support.fault_proxy import FaultProxy, database_through


@pytest.fixture
async def proxy(dynamo_endpoint):
    async with FaultProxy(dynamo_endpoint) as p:
        yield p


@pytest.fixture
async def db(settings, proxy):
    """The server's database (start_server takes this one): every request passes the proxy."""
    async with database_through(proxy, settings) as database:
        yield database


@pytest.fixture
async def server(start_server) -> GameServer:
    return await start_server(matcher_interval_ms=250, match_poll_ms=100, matchmade_start_delay_ms=200)


async def play(ann, bob, game_id: int, server: GameServer):
    first = await join(ann, game_id)
    await join(bob, game_id)
    winner, loser = duel_sides(first, ann, bob)
    await lose_into_the_wall(loser, first, ann, bob)
    return server.rooms.games[game_id], winner


async def test_a_result_that_lands_after_the_players_queued_again_rates_their_next_game(server, players, db, proxy):
    ann, bob = await players.new(), await players.new()
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    first_game = await match_found(ann)
    assert await match_found(bob) == first_game

    # The first game's result waits at the proxy while both queue again: their new
    # tickets carry the ratings it is writing (one game played), not the stored ones.
    proxy.hold({"TransactWriteItems"})
    first_room, _ = await play(ann, bob, first_game, server)
    await proxy.held.wait()
    await queued(ann, DUEL)
    await queued(bob, DUEL)
    tickets = {t.user_id: t for t in await db.list_region_tickets(server.settings.region, now_ms=wall_clock_ms())}
    assert tickets[ann.user_id].games_played == tickets[bob.user_id].games_played == 1
    assert (await db.get_user(ann.user_id)).games_played == 0
    proxy.release()
    first_result = await first_room.wait_result(timeout_s=10)
    assert first_result is not None

    second_game = await match_found(ann, timeout=10)
    assert await match_found(bob, timeout=10) == second_game
    before = proxy.counts.copy()
    second_room, winner = await play(ann, bob, second_game, server)
    second_result = await second_room.wait_result(timeout_s=10)
    asked = proxy.counts - before

    # One write, refused by no guard: nobody's rating was read again.
    assert asked["op:TransactWriteItems"] == 1, asked
    assert asked["op:GetItem"] == 0, asked
    assert second_result is not None
    for user_id in (ann.user_id, bob.user_id):
        stored = await db.get_user(user_id)
        assert stored.games_played == 2
        assert second_result.player(user_id).mmr_before == first_result.player(user_id).mmr_after
        assert second_result.player(user_id).mmr_after == stored.mmr
    assert second_result.player(winner.user_id).mmr_after > first_result.player(winner.user_id).mmr_after
