"""Two servers of one region share one pool: a match made by one server's matcher
reaches a player connected to the other through DynamoDB."""

from __future__ import annotations

from queueing import FFA2, QUICK_MATCHING, join, match_found, queue

from snaketron.client import AccountClient, GameClient


async def test_players_on_two_servers_meet_in_one_game(server, players, start_server, db):
    await server.matchmaking.matcher.wait_rounds(1, timeout_s=5)  # the first server holds the lease
    other = await start_server(**QUICK_MATCHING)
    ann = await players.new()
    async with AccountClient(other.api_url) as accounts:
        signed_in = await accounts.register("bob_elsewhere", "secret1")
        async with await GameClient.connect(other.ws_url) as bob:
            await bob.authenticate(signed_in.token)
            await queue(ann, FFA2)
            await queue(bob, FFA2)
            game_id = await match_found(ann)
            assert await match_found(bob) == game_id  # found by the other server's poll
            assert other.matchmaking.matcher.rounds == 0  # a standby: it matched nothing
            await db.flush()
            assert (await db.get_game(game_id)).game.server_id == server.server_id
            # The other server relays its player to the game's host.
            state = (await join(bob, game_id)).event.Snapshot.game_state
            assert set(state.players) == {ann.user_id, bob.user_id}
