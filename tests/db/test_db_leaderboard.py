"""`LeaderboardRecorder` against the embedded endpoint: what one finished game writes,
its request count, idempotence, and two servers recording the same player at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from snaketron.db import open_database
from snaketron.db.codec import from_item, to_attr
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.models import RatingUpdate, UserRecord
from snaketron.leaderboard import keys
from snaketron.leaderboard.recorder import LeaderboardRecorder, RatingActionsRefused
from snaketron.leaderboard.seasons import parse_season, season_at, seasons_until, soft_reset
from snaketron.rating import DEFAULT_MU, DEFAULT_SIGMA, Skill
from support.game_results import duel, now_ms, player, solo


def recorder_for(db: DynamoDatabase) -> LeaderboardRecorder:
    return LeaderboardRecorder.for_database(db)


async def query(db: DynamoDatabase, pk: str, prefix: str = "") -> list[dict[str, Any]]:
    condition, values = "pk = :pk", {":pk": to_attr(pk)}
    if prefix:
        condition, values[":p"] = condition + " AND begins_with(sk, :p)", to_attr(prefix)
    response = await db.client.call(
        "query",
        TableName=db.tables.main,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        ConsistentRead=True,
    )
    return [from_item(i) for i in response["Items"]]


def rated(user: UserRecord, mmr: int, before: int) -> RatingUpdate:
    """The user's new rating `mmr`, computed from `before` games played."""
    return RatingUpdate(
        user_id=user.user_id,
        username=user.username,
        mmr=mmr,
        rating_mu=25.0,
        rating_sigma=8.0,
        games_played=before + 1,
        games_played_before=before,
    )


def season_now(db: DynamoDatabase) -> str:
    return season_at(now_ms(), db.settings.season_months).id


async def test_a_finished_duel_costs_two_requests_and_writes_both_players(db: DynamoDatabase) -> None:
    recorder = recorder_for(db)
    game = duel(player(1, 1, mmr_after=1016), player(2, 2, mmr_after=984))
    before = sum(db.metrics.requests.values())
    assert await recorder.record(game) is True
    assert sum(db.metrics.requests.values()) - before == 2

    season = season_now(db)
    for user_id, mmr, wins, losses in ((1, 1016, 1, 0), (2, 984, 0, 1)):
        for scope in ("global", "local"):
            (entry,) = await query(db, f"USER#{user_id}", f"LB#{season}#duel#{scope}")
            assert (entry["mmr"], entry["wins"], entry["losses"], entry["games"]) == (mmr, wins, losses, 1)
        (history,) = await query(db, f"USER#{user_id}", "HIST#")
        assert history["gameId"] == game.game_id
        assert [p["userId"] for p in history["players"]] == [1, 2]
        (stats,) = await query(db, f"USER#{user_id}", "STATS#duel")
        assert (stats["mmr"], stats["games"]) == (mmr, 1)
    counters = await query(db, keys.bucket_pk(season, "duel", "global"))
    assert sum(c["count"] for c in counters) == 2


async def test_recording_the_same_game_twice_changes_nothing(db: DynamoDatabase) -> None:
    recorder = recorder_for(db)
    game = duel(player(1, 1, mmr_after=1010), player(2, 2, mmr_after=990))
    assert await recorder.record(game) is True
    assert await recorder.record(game) is False
    (entry,) = await query(db, "USER#1", f"LB#{season_now(db)}#duel#global")
    assert entry["games"] == 1
    counters = await query(db, keys.bucket_pk(season_now(db), "duel", "global"))
    assert sum(c["count"] for c in counters) == 2


async def test_two_servers_finishing_the_same_players_games_at_once_lose_nothing(db: DynamoDatabase) -> None:
    games_each = 3  # six games of one player at once: more than any player can have
    async with open_database(db.settings) as other:
        first, second = recorder_for(db), recorder_for(other)
        start = now_ms()
        games = [
            duel(player(1, 1, mmr_after=1000 + i), player(100 + i, 2, mmr_after=990), end_ms=start + i)
            for i in range(2 * games_each)
        ]
        outcomes = await asyncio.gather(
            *(first.record(g) for g in games[:games_each]), *(second.record(g) for g in games[games_each:])
        )
    assert all(outcomes)
    season = season_now(db)
    (entry,) = await query(db, "USER#1", f"LB#{season}#duel#global")
    assert (entry["wins"], entry["games"]) == (2 * games_each, 2 * games_each)
    assert entry["mmr"] == 1000 + 2 * games_each - 1  # the newest game's rating, whatever the write order
    assert len(await query(db, "USER#1", "HIST#")) == 2 * games_each
    counters = await query(db, keys.bucket_pk(season, "duel", "global"))
    assert sum(c["count"] for c in counters) == 1 + 2 * games_each  # player 1 once, each opponent once


async def test_an_older_game_recorded_late_keeps_the_newer_rating(db: DynamoDatabase) -> None:
    recorder = recorder_for(db)
    start = now_ms()
    await recorder.record(duel(player(1, 1, mmr_after=1030), player(2, 2, mmr_after=970), end_ms=start))
    await recorder.record(duel(player(1, 1, mmr_after=1015), player(3, 2, mmr_after=985), end_ms=start - 5_000))
    (entry,) = await query(db, "USER#1", f"LB#{season_now(db)}#duel#global")
    assert (entry["mmr"], entry["wins"]) == (1030, 2)


async def test_solo_keeps_the_best_score_and_counts_every_game(db: DynamoDatabase) -> None:
    recorder = recorder_for(db)
    for score in (10, 30, 20):
        await recorder.record(solo(7, score))
    (entry,) = await query(db, "USER#7", f"LB#{season_now(db)}#solo#global")
    assert entry["score"] == 30
    (stats,) = await query(db, "USER#7", "STATS#solo")
    assert (stats["bestScore"], stats["games"]) == (30, 3)
    counters = await query(db, keys.bucket_pk(season_now(db), "solo", "global"))
    assert [c["count"] for c in counters if c["count"]] == [1]


async def test_abandoned_and_unrated_games_reach_history_only(db: DynamoDatabase) -> None:
    recorder = recorder_for(db)
    await recorder.record(duel(player(1, 1, mmr_after=1010), player(2, 2, mmr_after=990), abandoned=True))
    assert await query(db, "USER#1", "LB#") == []
    assert await query(db, "USER#1", "STATS#") == []
    assert len(await query(db, "USER#1", "HIST#")) == 1


def test_seasons_are_calendar_periods() -> None:
    december = parse_season("2026-12", 1)
    assert december is not None and season_at(december.start_ms, 1) == december
    assert season_at(december.start_ms - 1, 1).id == "2026-11"
    assert season_at(december.start_ms, 3).id == "2026-10"
    assert parse_season("2026-11", 3) is None  # not the first month of a quarter
    assert parse_season("2026-13", 1) is None
    assert [s.id for s in seasons_until(december.start_ms + 1, "2026-10", 1)] == ["2026-12", "2026-11", "2026-10"]


def test_soft_reset_halves_the_distance_to_a_new_player() -> None:
    strong = soft_reset(Skill(DEFAULT_MU + 10, 2.0))
    assert strong.mu == DEFAULT_MU + 5
    assert 2.0 < strong.sigma <= DEFAULT_SIGMA
    assert soft_reset(Skill(DEFAULT_MU, DEFAULT_SIGMA)) == Skill(DEFAULT_MU, DEFAULT_SIGMA)


async def test_ratings_in_front_of_the_plan_land_with_it_or_are_refused_with_it(db: DynamoDatabase) -> None:
    """A rated game's rating actions ride in the plan's transaction: they land together,
    a stale rating guard refuses the whole (nothing on the boards), and recording the
    same game again is a no-op that does not report the now-moved rating as stale."""
    recorder = recorder_for(db)
    ann = await db.create_user("Ann", "h", now_ms=1)
    bob = await db.create_user("Bob", "h", now_ms=1)

    game = duel(player(ann.user_id, 1, mmr_after=1016), player(bob.user_id, 2, mmr_after=984))
    stale = db.rating_actions([rated(ann, 1016, 3), rated(bob, 984, 0)])  # Ann never played 3 games
    with pytest.raises(RatingActionsRefused) as refused:
        await recorder.record(game, with_actions=stale)
    assert refused.value.failed == [0]
    assert await query(db, f"USER#{ann.user_id}", "HIST#") == []

    fresh = db.rating_actions([rated(ann, 1016, 0), rated(bob, 984, 0)])
    before = sum(db.metrics.requests.values())
    assert await recorder.record(game, with_actions=fresh) is True
    assert sum(db.metrics.requests.values()) - before == 2  # still one read and one transaction
    assert ((await db.get_user(ann.user_id)).mmr, (await db.get_user(bob.user_id)).games_played) == (1016, 1)
    (entry,) = await query(db, f"USER#{ann.user_id}", f"LB#{season_now(db)}#duel#global")
    assert (entry["mmr"], entry["games"]) == (1016, 1)
    # Again (a retry whose first answer was lost): the history rows say it is recorded.
    assert await recorder.record(game, with_actions=fresh) is False
    assert (await db.get_user(ann.user_id)).games_played == 1
