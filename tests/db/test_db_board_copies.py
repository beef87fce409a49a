"""Board copies (`leaderboard/copies.py`) against the embedded endpoint: a player's next
rated game on the server that wrote their boards last is recorded without reading
them, and a copy another writer made stale is never written over."""

from __future__ import annotations

from typing import Any

from test_db_leaderboard import query, rated, season_now

from snaketron.db import open_database
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.models import UserRecord
from snaketron.leaderboard.copies import BoardCopies
from snaketron.leaderboard.recorder import LeaderboardRecorder
from support.game_results import duel, player


async def play(
    db: DynamoDatabase, recorder: LeaderboardRecorder, winner: UserRecord, loser: UserRecord, played: int, mmr: int
) -> dict[str, int]:
    """One rated duel recorded as a room records it (ratings in front, `ratings=`); the
    requests it sent, by operation."""
    ratings = [rated(winner, mmr, played), rated(loser, 2000 - mmr, played)]
    game = duel(player(winner.user_id, 1, mmr_after=mmr), player(loser.user_id, 2, mmr_after=2000 - mmr))
    before = dict(db.metrics.requests)
    assert await recorder.record(game, with_actions=db.rating_actions(ratings), ratings=ratings) is True
    return {op: n - before.get(op, 0) for op, n in db.metrics.requests.items() if n != before.get(op, 0)}


async def entry(db: DynamoDatabase, user: UserRecord) -> dict[str, Any]:
    (found,) = await query(db, f"USER#{user.user_id}", f"LB#{season_now(db)}#duel#global")
    return found


async def test_the_next_game_here_writes_without_reading_and_counts_right(db: DynamoDatabase) -> None:
    recorder = LeaderboardRecorder.for_database(db)
    ann, bob = await db.create_user("Ann", "h", now_ms=1), await db.create_user("Bob", "h", now_ms=1)
    assert await play(db, recorder, ann, bob, 0, 1016) == {"batch_get_item": 1, "transact_write_items": 1}
    assert await play(db, recorder, bob, ann, 1, 1003) == {"transact_write_items": 1}
    assert await play(db, recorder, ann, bob, 2, 1020) == {"transact_write_items": 1}

    ann_entry, bob_entry = await entry(db, ann), await entry(db, bob)
    assert (ann_entry["mmr"], ann_entry["wins"], ann_entry["losses"], ann_entry["games"]) == (1020, 2, 1, 3)
    assert (bob_entry["mmr"], bob_entry["wins"], bob_entry["losses"], bob_entry["games"]) == (980, 1, 2, 3)
    (stats,) = await query(db, f"USER#{ann.user_id}", "STATS#duel")
    assert (stats["games"], stats["wins"], stats["version"]) == (3, 2, 3)


async def test_a_game_written_by_another_server_in_between_makes_this_one_read(db: DynamoDatabase) -> None:
    ann, bob = await db.create_user("Ann", "h", now_ms=1), await db.create_user("Bob", "h", now_ms=1)
    here = LeaderboardRecorder.for_database(db)
    await play(db, here, ann, bob, 0, 1016)
    async with open_database(db.settings) as other:
        await play(other, LeaderboardRecorder.for_database(other), bob, ann, 1, 1003)
    # Rated from gamesPlayed 2, not the 1 this server's copy was kept at: it reads.
    assert await play(db, here, ann, bob, 2, 1020) == {"batch_get_item": 1, "transact_write_items": 1}
    ann_entry = await entry(db, ann)
    assert (ann_entry["wins"], ann_entry["losses"], ann_entry["games"]) == (2, 1, 3)


async def test_boards_changed_without_a_rating_fail_the_copy_s_guard_and_are_read(db: DynamoDatabase) -> None:
    """A rated game recorded on the boards without its rating (its rating write failed)
    leaves gamesPlayed where the copy expects it; the copy's version guard refuses the
    write, nothing of it lands, and the recorder reads and writes the right counts."""
    ann, bob = await db.create_user("Ann", "h", now_ms=1), await db.create_user("Bob", "h", now_ms=1)
    here = LeaderboardRecorder.for_database(db)
    await play(db, here, ann, bob, 0, 1016)
    async with open_database(db.settings) as other:
        unrated_boards = duel(player(ann.user_id, 1, mmr_after=None), player(bob.user_id, 2, mmr_after=None))
        assert await LeaderboardRecorder.for_database(other).record(unrated_boards) is True
    sent = await play(db, here, bob, ann, 1, 1003)
    assert sent == {"transact_write_items": 2, "batch_get_item": 1}  # refused on the copy, read, written
    (stats,) = await query(db, f"USER#{ann.user_id}", "STATS#duel")
    assert (stats["games"], stats["wins"], stats["losses"]) == (3, 2, 1)
    assert ((await db.get_user(ann.user_id)).games_played, (await entry(db, ann))["games"]) == (2, 2)


def test_copies_are_bounded_and_only_serve_the_gamesplayed_they_were_kept_at() -> None:
    copies = BoardCopies(capacity=2)
    key, other_key = ("USER#1", "STATS#duel"), ("USER#1", "STATS#ffa")
    copies.keep(1, 0, 1, {key: {"version": 1}})
    assert copies.take(1, 1, [key]) == {key: {"version": 1}}
    assert copies.take(1, 0, [key]) is None  # another gamesPlayed
    assert copies.take(1, 1, [key, other_key]) is None  # a key it never wrote
    assert copies.take(1, None, [key]) is None  # an unguarded rating says nothing
    # A later game on another board keeps what the first left untouched.
    copies.keep(1, 1, 2, {other_key: {"version": 1}})
    assert copies.take(1, 2, [key, other_key]) == {key: {"version": 1}, other_key: {"version": 1}}
    # Kept from a gamesPlayed the copy was not at: it starts again.
    copies.keep(1, 5, 6, {other_key: {"version": 2}})
    assert copies.take(1, 6, [key]) is None
    copies.keep(2, 0, 1, {key: {}})
    copies.keep(3, 0, 1, {key: {}})
    assert len(copies) == 2 and copies.take(1, 6, [other_key]) is None  # least recently used out
    copies.drop([2, 3])
    assert len(copies) == 0
