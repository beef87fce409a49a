"""Ratings after real matchmade games played to the end over real connections."""

from __future__ import annotations

import pytest
from queueing import DUEL, FFA3, join, match_found, queue

from snaketron import protocol
from snaketron.engine import Direction
from snaketron.game_server import GameServer
from support.gameplay import events_until_complete, turn


@pytest.fixture
async def server(start_server) -> GameServer:
    # A short countdown: these tests play the games out.
    return await start_server(matcher_interval_ms=250, match_poll_ms=100, matchmade_start_delay_ms=200)


async def usernames_copy_mmr(db, username: str) -> int:
    """The mmr on the usernames table item (the copy the spec keeps next to the hash)."""
    response = await db.client.call(
        "get_item", TableName=db.tables.usernames, Key={"username": {"S": username.lower()}}, ConsistentRead=True
    )
    return int(response["Item"]["mmr"]["N"])


async def play_to_the_end(server, clients, game_id, steer):
    """Everyone joins; `steer(snake)` says where each snake turns at tick 0 (None:
    straight on). Returns the first state, each player's snake id and the winning snake."""
    snapshots = [await join(c, game_id) for c in clients]
    state = snapshots[0].event.Snapshot.game_state
    snake_of = {uid: entry.snake_id for uid, entry in state.players.items()}
    for client in clients:
        direction = steer(state.arena.snakes[snake_of[client.user_id]])
        if direction is not None:
            await client.send(turn(client, direction, snapshots[0].tick))
    finals = [await events_until_complete(c, timeout=15) for c in clients]
    winner = finals[0][-1].event.StatusUpdated.status.Complete.winning_snake_id
    await server.rooms.wait_result(game_id, timeout_s=5)
    return state, snake_of, winner


async def test_ratings_move_the_right_way_after_a_duel(server, players, db):
    ann, bob = await players.new(), await players.new()
    await queue(ann, DUEL)
    await queue(bob, DUEL)
    game_id = await match_found(ann)
    assert await match_found(bob) == game_id

    # Team 0's snake turns into the top wall (dies at tick 20); team 1 wins.
    _, snake_of, winner = await play_to_the_end(
        server, [ann, bob], game_id, lambda snake: Direction.UP if snake.team_id == 0 else None
    )
    loser = next(c for c in (ann, bob) if snake_of[c.user_id] != winner)
    champion = next(c for c in (ann, bob) if snake_of[c.user_id] == winner)

    won, lost = await db.get_user(champion.user_id), await db.get_user(loser.user_id)
    assert won.mmr > 1000 > lost.mmr
    assert won.mmr - 1000 == 1000 - lost.mmr  # equal players: a symmetric exchange
    assert won.games_played == lost.games_played == 1
    assert won.rating_sigma < 25 / 3 and lost.rating_sigma < 25 / 3
    assert await usernames_copy_mmr(db, champion.username) == won.mmr
    assert await usernames_copy_mmr(db, loser.username) == lost.mmr
    await db.flush()
    rows = {p.user_id: p for p in (await db.get_game(game_id)).players}
    assert rows[champion.user_id].mmr_before == 1000 and rows[champion.user_id].mmr_after == won.mmr
    assert rows[loser.user_id].mmr_after == lost.mmr
    assert rows[champion.user_id].placement == 1

    # The next queue uses the new rating.
    await queue(champion, DUEL)
    await champion.expect(protocol.QueueUpdate)
    assert server.matchmaking.waiting[champion.user_id].ticket.mmr == won.mmr


async def test_ratings_move_the_right_way_after_a_free_for_all(server, players, db):
    crowd = [await players.new() for _ in range(3)]
    for client in crowd:
        await queue(client, FFA3)
    game_id = await match_found(crowd[0])
    for client in crowd[1:]:
        assert await match_found(client) == game_id

    # Three seats: top-left (y=2) and bottom-left facing Right, one on the right facing
    # Left. The top-left snake turns into the top wall (dies first, tick 2), the right
    # one turns up (dies at tick 20), the bottom-left one goes on and wins.
    def steer(snake):
        if snake.direction == Direction.LEFT or snake.body[0].y < 20:
            return Direction.UP
        return None

    state, snake_of, winner = await play_to_the_end(server, crowd, game_id, steer)
    snakes = state.arena.snakes
    user_of = {sid: uid for uid, sid in snake_of.items()}
    right = user_of[next(i for i, s in enumerate(snakes) if s.direction == Direction.LEFT)]
    top = user_of[next(i for i, s in enumerate(snakes) if s.direction == Direction.RIGHT and s.body[0].y < 20)]
    bottom = user_of[next(i for i, s in enumerate(snakes) if s.direction == Direction.RIGHT and s.body[0].y > 20)]
    assert user_of[winner] == bottom
    mmr = {uid: (await db.get_user(uid)).mmr for uid in snake_of}
    assert mmr[bottom] > mmr[right] > mmr[top]
    assert mmr[bottom] > 1000 > mmr[top]
    await db.flush()
    rows = {p.user_id: p for p in (await db.get_game(game_id)).players}
    assert [rows[u].placement for u in (bottom, right, top)] == [1, 2, 3]
    assert all(rows[u].mmr_after == mmr[u] for u in mmr)


async def test_solo_games_never_change_ratings(server, players, db):
    client = await players.new()
    await client.send(protocol.CreateSoloGame())
    created = await client.expect(protocol.SoloGameCreated)
    first = await join(client, created.game_id)
    await client.send(turn(client, Direction.UP, first.tick))  # into the top wall
    await events_until_complete(client, timeout=15)
    await db.flush()
    user = await db.get_user(client.user_id)
    assert (user.mmr, user.games_played, user.rating_mu) == (1000, 0, None)
    assert server.matchmaking.seats.seat_of == {}
