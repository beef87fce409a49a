"""What a finished room hands its listeners: one immutable `GameResult`, built after
the result and its ratings were written together, over real connections."""

from __future__ import annotations

import dataclasses

import pytest
from queueing import join, played_duel

from snaketron import protocol
from snaketron.engine import Direction
from snaketron.rooms.ports import RoomListener
from snaketron.rooms.result import GameResult
from support.gameplay import events_until_complete, turn


class Results(RoomListener):
    """A listener as leaderboards and replays will be: it keeps what it is handed."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[GameResult] = []

    def room_started(self, room_id: int, kind: str) -> None:
        self.started.append(room_id)

    def room_finished(self, result: GameResult) -> None:
        self.finished.append(result)


class Broken(RoomListener):
    def room_finished(self, result: GameResult) -> None:
        raise RuntimeError("a listener's bug")


@pytest.fixture
async def server(start_server):
    return await start_server(matcher_interval_ms=250, match_poll_ms=100, matchmade_start_delay_ms=200)


async def test_a_matched_duel_hands_every_listener_its_places_scores_and_rating_changes(server, players, db):
    results = Results()
    server.rooms.subscribe(Broken())  # first: a failing listener must not stop the others
    server.rooms.subscribe(results)
    ann, bob = await players.new(), await players.new()
    game_id, winner, loser = await played_duel(ann, bob)

    result = await server.rooms.games[game_id].wait_result(timeout_s=5)
    assert results.finished == [result] and game_id in results.started
    assert result.rated and result.kind == "matchmaking" and not result.abandoned
    assert result.winner_user_id == winner.user_id
    won, lost = result.player(winner.user_id), result.player(loser.user_id)
    assert (won.place, lost.place) == (1, 2)
    assert won.score > 0 and lost.score > 0
    assert won.mmr_before == lost.mmr_before == 1000
    # The value equals what was written, and was written before it was handed out.
    assert won.mmr_after == (await db.get_user(winner.user_id)).mmr
    assert lost.mmr_after == (await db.get_user(loser.user_id)).mmr
    assert won.mmr_change > 0 > lost.mmr_change
    # What a replay listener saves: the recording of this very game, as it ended.
    assert result.recording is not None and result.recording.game_id == game_id
    assert result.recording.final_tick == result.end_tick
    await db.flush()
    rows = {p.user_id: p for p in (await db.get_game(game_id)).players}
    assert {u: (r.placement, r.mmr_after) for u, r in rows.items()} == {
        p.user_id: (p.place, p.mmr_after) for p in result.players
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.winner_user_id = None  # type: ignore[misc]


async def test_a_solo_result_is_unrated_and_scored_by_length(server, players):
    results = Results()
    server.rooms.subscribe(results)
    client = await players.new()
    await client.send(protocol.CreateSoloGame())
    created = await client.expect(protocol.SoloGameCreated)
    first = await join(client, created.game_id)
    await client.send(turn(client, Direction.UP, first.tick))
    await events_until_complete(client, timeout=15)

    result = await server.rooms.games[created.game_id].wait_result(timeout_s=5)
    assert results.finished == [result]
    assert result.kind == "solo" and not result.rated
    (mine,) = result.players
    assert mine.user_id == client.user_id and mine.place == 1
    assert mine.score >= 1 and not mine.left
    assert mine.mmr_before is None and mine.mmr_after is None and mine.mmr_change is None
