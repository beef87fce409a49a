"""Rating writes wait for a slot (`GameRecorder`'s `writes_in_flight`,
SNAKETRON_DB_RESULT_WRITES): games formed in one matching round end together, and
their results must not fill the connection pool and the endpoint's line ahead of
sign-ins, lobbies and the matcher. The new ratings are known from the game's end,
not from when the write lands, and forgotten if it does not; so the guard names the
whole state a rating was computed from (gamesPlayed and ratingMu). Against the
embedded endpoint, through the fault proxy that holds requests."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from test_db_leaderboard import rated

from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.errors import RatingConflict
from snaketron.db.models import GamePlayerRecord, GameRecord, RatingUpdate, UserRecord
from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.persistence import GameRecorder
from snaketron.rating import copy_of
from snaketron.rooms.result import GameResult
from support.fault_proxy import FaultProxy
from support.game_results import duel, player


def recorder_as_served(db: DynamoDatabase, slots: int) -> GameRecorder:
    """As `snaketron serve` builds it: boards and ratings in the result's transaction."""
    return GameRecorder(db, boards=LeaderboardRecorder.for_database(db), rating_actions=db, writes_in_flight=slots)


def finished(
    game_id: int, winner: UserRecord, loser: UserRecord, before: int = 0
) -> tuple[GameRecord, list[GamePlayerRecord], list[RatingUpdate], GameResult]:
    """A finished rated duel as a room hands it to the recorder."""
    ratings = [rated(winner, 1016, before), rated(loser, 984, before)]
    game = GameRecord(game_id=game_id, server_id=1, game_type="Solo", game_mode="matchmaking", status="finished")
    rows = [
        GamePlayerRecord(game_id=game_id, user_id=u.user_id, username=u.username, placement=place, mmr_after=r.mmr)
        for place, u, r in ((1, winner, ratings[0]), (2, loser, ratings[1]))
    ]
    result = duel(
        player(winner.user_id, 1, mmr_after=1016, username=winner.username),
        player(loser.user_id, 2, mmr_after=984, username=loser.username),
        game_id=game_id,
    )
    return game, rows, ratings, result


async def test_rating_writes_beyond_the_slots_wait_in_the_server_and_other_requests_pass(
    faulty_db: DynamoDatabase, proxy: FaultProxy
) -> None:
    recorder = recorder_as_served(faulty_db, slots=2)
    users = [await faulty_db.create_user(f"slot{n}", "h", now_ms=1) for n in range(10)]
    pairs = [(users[2 * k], users[2 * k + 1]) for k in range(5)]
    proxy.hold({"TransactWriteItems"})  # each result's one transaction
    writes = [asyncio.create_task(recorder.record_result(*finished(900 + k, a, b))) for k, (a, b) in enumerate(pairs)]
    await proxy.wait_held(2)
    # A sign-in's read passes the waiting results; the other three never left the server.
    assert (await faulty_db.get_user(users[0].user_id)).games_played == 0
    assert proxy.counts["held"] == 2
    # Known from the game's end: a player queueing again now carries the new rating.
    assert all((known := recorder.known_rating(u.user_id)) and known.games_played == 1 for u in users)

    proxy.release()
    assert await asyncio.gather(*writes) == [True] * 5
    assert [(await faulty_db.get_user(u.user_id)).games_played for u in users] == [1] * 10
    assert [(await faulty_db.get_game(900 + k)).game.status for k in range(5)] == ["finished"] * 5


async def test_a_result_stopped_while_waiting_for_a_slot_still_hands_its_rows_to_the_batch_writer(
    faulty_db: DynamoDatabase, proxy: FaultProxy
) -> None:
    """A shutdown past its deadline cancels what is left: the waiting game's rows must
    reach the batch writer it flushes, and its ratings (never sent) are forgotten."""
    recorder = recorder_as_served(faulty_db, slots=1)
    ann, bob, cy, dee = [await faulty_db.create_user(n, "h", now_ms=1) for n in ("Ann", "Bob", "Cy", "Dee")]
    proxy.hold({"TransactWriteItems"})
    first = asyncio.create_task(recorder.record_result(*finished(910, ann, bob)))
    await proxy.wait_held(1)
    waiting = asyncio.create_task(recorder.record_result(*finished(911, cy, dee)))
    await asyncio.sleep(0)  # one turn of the loop: it runs up to its wait for the slot
    assert recorder.known_rating(cy.user_id) is not None
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert recorder.known_rating(cy.user_id) is None and recorder.known_rating(dee.user_id) is None
    proxy.release()
    assert await first
    await faulty_db.flush()
    stored = await faulty_db.get_game(911)
    assert stored.game.status == "finished" and {p.user_id for p in stored.players} == {cy.user_id, dee.user_id}
    assert (await faulty_db.get_user(cy.user_id)).games_played == 0  # its ratings were never written


async def test_a_rating_handed_out_that_never_landed_cannot_be_built_on(
    faulty_db: DynamoDatabase, proxy: FaultProxy, db: DynamoDatabase
) -> None:
    """Ann's game here ends (1016, one game) and its write waits; another server lands a
    different rating for her at one game (a game she joined after leaving this one).
    This write is refused and forgotten; a game rated from the rating it handed out,
    guarded on one game played, is refused too, though gamesPlayed matches."""
    here = recorder_as_served(faulty_db, slots=1)
    ann, bob = await faulty_db.create_user("Ann", "h", now_ms=1), await faulty_db.create_user("Bob", "h", now_ms=1)
    proxy.hold({"TransactWriteItems"})
    game = asyncio.create_task(here.record_result(*finished(920, ann, bob)))
    await proxy.wait_held(1)
    handed_out = here.known_rating(ann.user_id)
    assert handed_out is not None and handed_out.games_played == 1
    elsewhere = msgspec.structs.replace(rated(ann, 900, 0), rating_mu=24.0)
    await db.update_ratings([elsewhere])  # another server's write (not through the proxy) lands first
    proxy.release()
    with pytest.raises(RatingConflict):
        await game
    assert here.known_rating(ann.user_id) is None

    built_on_it = RatingUpdate(
        user_id=ann.user_id,
        username=ann.username,
        mmr=1030,
        rating_mu=26.0,
        rating_sigma=7.5,
        games_played=2,
        games_played_before=handed_out.games_played,
        rating_mu_before=handed_out.mu,
        rating_sigma_before=handed_out.sigma,
    )
    with pytest.raises(RatingConflict):
        await faulty_db.update_ratings([built_on_it])
    stored = await faulty_db.get_user(ann.user_id)
    assert (stored.mmr, stored.games_played) == (900, 1)
    # The same mu with another sigma (a draw between new players keeps mu at 25) is
    # another state as well.
    same_mu = msgspec.structs.replace(built_on_it, rating_mu_before=stored.rating_mu, rating_sigma_before=1.0)
    with pytest.raises(RatingConflict):
        await faulty_db.update_ratings([same_mu])
    from_stored = msgspec.structs.replace(same_mu, rating_sigma_before=stored.rating_sigma)
    await faulty_db.update_ratings([from_stored])
    assert (await faulty_db.get_user(ann.user_id)).games_played == 2


async def test_a_failed_write_forgets_only_its_own_copy(faulty_db: DynamoDatabase, proxy: FaultProxy) -> None:
    """Two games of Ann's end here at once, both rated from her one game played (she left
    the first alive): one write was computed from a state that is not stored and is
    refused; forgetting its copy must not forget the other's, which landed."""
    recorder = recorder_as_served(faulty_db, slots=2)
    ann, bob, cy = [await faulty_db.create_user(n, "h", now_ms=1) for n in ("Ann", "Bob", "Cy")]
    await faulty_db.update_ratings([rated(ann, 1010, 0), rated(bob, 990, 0), rated(cy, 990, 0)])
    state = await faulty_db.get_user(ann.user_id)

    def from_state(game_id: int, opponent: UserRecord, mu: float | None, sigma: float | None, mmr: int):
        game, rows, ratings, result = finished(game_id, ann, opponent, before=1)
        ratings = [msgspec.structs.replace(r, rating_mu_before=mu, rating_sigma_before=sigma) for r in ratings]
        ratings[0] = msgspec.structs.replace(ratings[0], mmr=mmr)
        return game, rows, ratings, result

    proxy.hold({"TransactWriteItems"})
    refused = asyncio.create_task(recorder.record_result(*from_state(960, bob, 1.0, 1.0, 1020)))
    landed = asyncio.create_task(
        recorder.record_result(*from_state(961, cy, state.rating_mu, state.rating_sigma, 1030))
    )
    await proxy.wait_held(2)
    proxy.release()
    with pytest.raises(RatingConflict):
        await refused
    assert await landed
    stored = await faulty_db.get_user(ann.user_id)
    assert (stored.mmr, stored.games_played) == (1030, 2)
    assert recorder.known_rating(ann.user_id) == copy_of(stored)


async def test_a_refused_rating_write_is_forgotten_and_a_landed_one_known(faulty_db: DynamoDatabase) -> None:
    recorder = recorder_as_served(faulty_db, slots=16)
    ann, bob = await faulty_db.create_user("Ann", "h", now_ms=1), await faulty_db.create_user("Bob", "h", now_ms=1)
    with pytest.raises(RatingConflict):  # computed from 3 games played: the guard refuses
        await recorder.record_result(*finished(950, ann, bob, before=3))
    assert recorder.known_rating(ann.user_id) is None
    assert recorder.known_rating(bob.user_id) is None
    # The refused transaction carried the game's rows: they are stored all the same
    # (without the refused ratings), whatever re-rating does next.
    await faulty_db.flush()
    stored = await faulty_db.get_game(950)
    assert {(p.user_id, p.mmr_after) for p in stored.players} == {(ann.user_id, None), (bob.user_id, None)}
    assert await recorder.record_result(*finished(951, ann, bob))
    assert [recorder.known_rating(u.user_id).games_played for u in (ann, bob)] == [1, 1]  # type: ignore[union-attr]
