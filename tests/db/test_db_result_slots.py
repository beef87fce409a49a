"""Result writes wait for a slot (`GameRecorder`'s `writes_in_flight`,
SNAKETRON_DB_RESULT_WRITES): games formed in one matching round end together, and
their results must not fill the connection pool and the endpoint's line ahead of
sign-ins, lobbies and the matcher. The new ratings are known from the game's end,
not from when the write lands, and forgotten if it fails. Against the embedded
endpoint, through the fault proxy that holds requests."""

from __future__ import annotations

import asyncio

import pytest
from test_db_leaderboard import rated

from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.errors import RatingConflict
from snaketron.db.models import GamePlayerRecord, GameRecord, UserRecord
from snaketron.persistence import GameRecorder
from support.fault_proxy import FaultProxy


def finished(game_id: int, winner: UserRecord, loser: UserRecord) -> tuple[GameRecord, list[GamePlayerRecord]]:
    game = GameRecord(game_id=game_id, server_id=1, game_type="Solo", game_mode="matchmaking", status="finished")
    rows = [
        GamePlayerRecord(game_id=game_id, user_id=u.user_id, username=u.username, placement=place)
        for place, u in ((1, winner), (2, loser))
    ]
    return game, rows


async def test_results_beyond_the_slots_wait_in_the_server_and_other_requests_pass(
    faulty_db: DynamoDatabase, proxy: FaultProxy
) -> None:
    recorder = GameRecorder(faulty_db, writes_in_flight=2)
    users = [await faulty_db.create_user(f"slot{n}", "h", now_ms=1) for n in range(10)]
    pairs = [(users[2 * k], users[2 * k + 1]) for k in range(5)]
    proxy.hold({"TransactWriteItems"})  # the ratings' write of each result
    writes = [
        asyncio.create_task(recorder.record_result(*finished(900 + k, a, b), [rated(a, 1016, 0), rated(b, 984, 0)]))
        for k, (a, b) in enumerate(pairs)
    ]
    await proxy.wait_held(2)
    # A sign-in's read passes the waiting results; the other three never left the server.
    assert (await faulty_db.get_user(users[0].user_id)).games_played == 0
    assert proxy.counts["held"] == 2
    # Known from the game's end: a player queueing again now carries the new rating.
    assert all((known := recorder.known_rating(u.user_id)) and known.games_played == 1 for u in users)

    proxy.release()
    assert await asyncio.gather(*writes) == [True] * 5
    assert [(await faulty_db.get_user(u.user_id)).games_played for u in users] == [1] * 10


async def test_a_refused_rating_write_is_forgotten(faulty_db: DynamoDatabase) -> None:
    recorder = GameRecorder(faulty_db)
    ann, bob = await faulty_db.create_user("Ann", "h", now_ms=1), await faulty_db.create_user("Bob", "h", now_ms=1)
    with pytest.raises(RatingConflict):  # Ann never played 3 games: the guard refuses
        await recorder.record_result(*finished(950, ann, bob), [rated(ann, 1016, 3), rated(bob, 984, 0)])
    assert recorder.known_rating(ann.user_id) is None
    assert recorder.known_rating(bob.user_id) is None
    assert await recorder.record_result(*finished(951, ann, bob), [rated(ann, 1016, 0), rated(bob, 984, 0)])
    assert [recorder.known_rating(u.user_id).games_played for u in (ann, bob)] == [1, 1]  # type: ignore[union-attr]
