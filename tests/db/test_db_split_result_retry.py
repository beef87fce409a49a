"""A rated game too large for one transaction writes its ratings (and rows) first, then
its boards. When that first transaction's answer is lost and the retry fails its own
guards (the embedded endpoint ignores ClientRequestToken), the write is recognised as
landed: refusing it made the room re-read the ratings the game had just written and
rate the game a second time (review finding, 2026-12-07)."""

from __future__ import annotations

import asyncio

import pytest

from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.models import RatingUpdate
from snaketron.leaderboard.recorder import LeaderboardRecorder, RatingActionsRefused
from snaketron.matchmaking.queues import RULES
from snaketron.rooms.result import GameResult, PlayerResult

PLAYERS = 16  # a 16-player FFA: ratings, rows and boards exceed 100 actions


async def _game(db: DynamoDatabase, game_id: int) -> tuple[GameResult, list[RatingUpdate]]:
    users = [await db.create_user(f"Split{game_id}x{i}", "h", now_ms=1) for i in range(PLAYERS)]
    updates = [
        RatingUpdate(
            user_id=u.user_id,
            username=u.username,
            mmr=1010,
            rating_mu=25.5,
            rating_sigma=8.0,
            games_played=1,
            games_played_before=0,
        )
        for u in users
    ]
    players = tuple(
        PlayerResult(
            user_id=u.user_id,
            username=u.username,
            snake_id=i,
            team_id=None,
            place=i + 1,
            score=10 + i,
            left=False,
            mmr_before=1000,
            mmr_after=1010,
        )
        for i, u in enumerate(users)
    )
    result = GameResult(
        game_id=game_id,
        kind="match",
        game_type=RULES["ffa16"].game_type,
        rated=True,
        is_private=False,
        region="eu",
        server_id=1,
        start_ms=1,
        end_ms=2_000_000_000_000,
        end_tick=10,
        winner_user_id=users[0].user_id,
        abandoned=False,
        players=players,
        spectator_ids=(),
    )
    return result, updates


def _with_rows(db: DynamoDatabase, updates: list[RatingUpdate]) -> list[dict]:
    # The ratings and, like the game's rows, unconditional puts: too many for one
    # transaction with the boards, so they go first, alone.
    rows = [
        {"Put": {"TableName": db.tables.main, "Item": {"pk": {"S": f"ROW#{i}"}, "sk": {"S": "R"}}}} for i in range(18)
    ]
    return db.rating_actions(updates) + rows


async def test_a_landed_first_transaction_is_not_refused(db, faulty_db, proxy) -> None:
    result, updates = await _game(db, 7)
    recorder = LeaderboardRecorder.for_database(faulty_db)
    proxy.only = {"TransactWriteItems"}
    proxy.lose_next_answers = 1
    recorded = await asyncio.wait_for(
        recorder.record(
            result, with_actions=_with_rows(faulty_db, updates), actions_landed=lambda: faulty_db.ratings_are(updates)
        ),
        timeout=30,
    )
    assert recorded
    stored = await db.get_user(updates[0].user_id)
    assert (stored.games_played, stored.mmr) == (1, 1010)


async def test_without_the_look_the_same_loss_is_a_refusal(db, faulty_db, proxy) -> None:
    """What the room saw before the fix (and what a real refusal still gives)."""
    result, updates = await _game(db, 8)
    recorder = LeaderboardRecorder.for_database(faulty_db)
    proxy.only = {"TransactWriteItems"}
    proxy.lose_next_answers = 1
    with pytest.raises(RatingActionsRefused):
        await asyncio.wait_for(recorder.record(result, with_actions=_with_rows(faulty_db, updates)), timeout=30)
