"""A finished game's history as players see it, over real connections: the boards, the
player's page and the replay are written by the rooms' listeners as the game ends, and
the replay is the stream a spectator watched live."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest
from queueing import duel_sides, matched_duel

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
