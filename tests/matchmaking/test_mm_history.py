"""A finished game's history as players see it, over real connections: the boards, the
player's page and the replay are written by the rooms' listeners as the game ends, and
the replay is the stream a spectator watched live."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest
from queueing import DUEL, duel_sides, matched_duel

from snaketron import protocol
from snaketron.engine import Direction, GameEventMessage
from snaketron.leaderboard.listener import LeaderboardUpdater
from support.gameplay import events_until_complete, turn

_events = msgspec.json.Decoder(list[GameEventMessage])


def without_snapshots(events: list[GameEventMessage]) -> list[tuple[int, int, bytes]]:
    return [(e.tick, e.sequence, msgspec.json.encode(e.event)) for e in events if e.event.Snapshot is None]


@pytest.fixture
async def server(start_server):
    return await start_server(matcher_interval_ms=250, match_poll_ms=100, matchmade_start_delay_ms=200)


async def test_a_matched_duel_reaches_the_boards_the_player_page_and_its_replay(server, players, db):
    ann, bob, watcher = await players.new(), await players.new(), await players.new()
    game_id, first = await matched_duel(ann, bob)
    await watcher.send(protocol.SpectateGame(game_id=game_id))
    await watcher.expect(protocol.SpectatorJoined)
    winner, loser = duel_sides(first, ann, bob)
    await loser.send(turn(loser, Direction.UP, first.tick))  # into the top wall
    watched = await events_until_complete(watcher, timeout=15)
    await events_until_complete(ann, timeout=15)
    await events_until_complete(bob, timeout=15)

    await server.rooms.games[game_id].wait_result(timeout_s=5)
    updater = next(x for x in server.rooms.listeners if isinstance(x, LeaderboardUpdater))
    await updater.idle()
    await db.flush()  # the replay rides the batch writer

    async with aiohttp.ClientSession(server.api_url) as http:
        async with http.get("/api/leaderboard", params={"game_type": "duel"}) as response:
            board = await response.json()
        assert response.status == 200, board
        ranked = {e["username"]: e for e in board["entries"]}
        assert ranked[winner.username]["wins"] == 1 and ranked[loser.username]["losses"] == 1
        assert ranked[winner.username]["rank"] < ranked[loser.username]["rank"]

        async with http.get(f"/api/players/{loser.username}/games") as response:
            history = await response.json()
        assert response.status == 200, history
        assert [g["gameId"] for g in history["games"]] == [game_id]

        async with http.get(f"/api/games/{game_id}/replay") as response:
            body = await response.json()
        assert response.status == 200, body
    replayed = _events.decode(msgspec.json.encode(body["events"]))
    # Event for event what the spectator received, from where it began watching.
    since = watched[0].sequence
    assert without_snapshots([e for e in replayed if e.sequence > since]) == without_snapshots(watched[1:])
    assert replayed[-1].event.StatusUpdated is not None


async def test_a_solo_game_reaches_the_solo_board_and_its_player_s_own_history(server, players):
    """A solo game is announced as Custom of mode Solo (as the original server did); its
    history still calls it solo and its length goes on the solo board."""
    ann = await players.new()
    await ann.send(protocol.CreateSoloGame())
    game_id = (await ann.expect(protocol.SoloGameCreated)).game_id
    await ann.send(protocol.JoinGame(game_id))
    await events_until_complete(ann, timeout=60)  # nobody steers: the snake meets a wall
    result = await server.rooms.games[game_id].wait_result(timeout_s=5)
    updater = next(x for x in server.rooms.listeners if isinstance(x, LeaderboardUpdater))
    await updater.idle()

    async with aiohttp.ClientSession(server.api_url) as http:
        async with http.get("/api/leaderboard", params={"game_type": "solo"}) as response:
            board = await response.json()
        assert [(e["username"], e["score"], e["gameId"]) for e in board["entries"]] == [
            (ann.username, result.player(ann.user_id).score, game_id)
        ]
        mine = {"Authorization": f"Bearer {ann.token}"}
        async with http.get(f"/api/players/{ann.username}/games", headers=mine) as response:
            history = await response.json()
        assert [(g["gameId"], g["gameType"]) for g in history["games"]] == [(game_id, "solo")]


async def _duel_board(server, db) -> dict[str, dict]:
    updater = next(x for x in server.rooms.listeners if isinstance(x, LeaderboardUpdater))
    await updater.idle()
    await db.flush()
    async with aiohttp.ClientSession(server.api_url) as http:
        async with http.get("/api/leaderboard", params={"game_type": "duel"}) as response:
            board = await response.json()
        assert response.status == 200, board
    return {e["username"]: e for e in board["entries"]}


async def test_a_duel_both_snakes_lose_at_once_is_a_draw_on_the_boards_as_in_the_ratings(server, players, db):
    ann, bob = await players.new(), await players.new()
    game_id, _ = await matched_duel(ann, bob)
    # Nobody steers: the two heads meet in the middle in one tick.
    ended = await events_until_complete(ann, timeout=15)
    assert ended[-1].event.StatusUpdated.status.Complete.winning_snake_id is None
    result = await server.rooms.games[game_id].wait_result(timeout_s=5)
    assert [p.place for p in result.players] == [1, 1]
    assert result.players[0].mmr_after == result.players[1].mmr_after  # a draw to the rating
    ranked = await _duel_board(server, db)
    for client in (ann, bob):  # a draw counts in neither (the game still counts as played)
        entry = ranked[client.username]
        assert (entry["wins"], entry["losses"]) == (0, 0), entry


async def test_a_matched_player_who_never_came_is_last_on_the_boards_as_in_the_ratings(server, players, db):
    ann, bob = await players.new(), await players.new()
    await ann.send(protocol.QueueForMatch(game_type=DUEL))
    await bob.send(protocol.QueueForMatch(game_type=DUEL))
    game_id = (await ann.expect(protocol.MatchFound)).game_id
    assert (await bob.expect(protocol.MatchFound)).game_id == game_id
    await bob.send(protocol.JoinGame(game_id=game_id))  # ann never joins; nobody steers
    ended = await events_until_complete(bob, timeout=15)
    assert ended[-1].event.StatusUpdated.status.Complete.winning_snake_id is None
    result = await server.rooms.games[game_id].wait_result(timeout_s=5)
    came, gone = result.player(bob.user_id), result.player(ann.user_id)
    assert (came.place, gone.place) == (1, 2)
    assert came.mmr_change > 0 > gone.mmr_change
    ranked = await _duel_board(server, db)
    assert (ranked[bob.username]["wins"], ranked[bob.username]["losses"]) == (1, 0)
    assert (ranked[ann.username]["wins"], ranked[ann.username]["losses"]) == (0, 1)
