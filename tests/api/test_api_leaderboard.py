"""The leaderboard and player endpoints over HTTP, against the embedded endpoint; the
games are recorded by `LeaderboardRecorder` from `GameResult` values, as the finish path
will (tests/db/test_db_leaderboard.py covers what it writes)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.leaderboard.seasons import season_at
from support.accounts import account
from support.game_results import duel, now_ms, player, result, solo

_regions = itertools.count(1)


def recorder(api: Any) -> LeaderboardRecorder:
    return LeaderboardRecorder(api.db.client, api.db.tables.main, season_months=1)


def fresh_region() -> str:
    """Each test reads boards of its own region: the global board is shared by the run."""
    return f"r{next(_regions)}"


async def board(api: Any, **query: Any) -> tuple[int, Any]:
    status, body, _ = await api.get("/api/leaderboard", params={k: str(v) for k, v in query.items()})
    return status, body


async def me(api: Any, user_id: int, **query: Any) -> Any:
    await account(api.db, user_id, f"player{user_id}")
    token = api.tokens.issue(user_id, f"player{user_id}")
    status, body, _ = await api.get(
        "/api/leaderboard/me",
        params={k: str(v) for k, v in query.items()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 200, body
    return body


async def seed_ratings(api: Any, region: str, ratings: list[int]) -> None:
    """One duel per pair of players (ids 1..n), each ending at the given rating."""
    rec = recorder(api)
    start = now_ms()
    for i in range(0, len(ratings), 2):
        pair = ratings[i : i + 2]
        players = [player(i + 1 + j, j + 1, mmr_after=mmr) for j, mmr in enumerate(pair)]
        await rec.record(result("duel", players, region=region, end_ms=start + i))


async def test_a_board_lists_players_by_mmr_with_ranks_and_win_rates(api) -> None:
    region = fresh_region()
    await seed_ratings(api, region, [1200, 900, 1100, 1300])
    status, body = await board(api, game_type="duel", region=region)
    assert status == 200
    assert [(e["rank"], e["username"], e["mmr"]) for e in body["entries"]] == [
        (1, "player4", 1300),
        (2, "player1", 1200),
        (3, "player3", 1100),
        (4, "player2", 900),
    ]
    assert body["entries"][1] == {
        "rank": 2,
        "username": "player1",
        "mmr": 1200,
        "wins": 1,
        "losses": 0,
        "winRate": 100.0,
    }
    assert (body["gameType"], body["region"], body["hasMore"]) == ("duel", region, False)
    assert body["season"] == season_at(now_ms(), 1).id
    status, aliased = await board(api, game_type="1v1", region=region, queue_mode="quickmatch")
    assert status == 200 and aliased["entries"] == body["entries"] and aliased["queueMode"] == "quickmatch"


async def test_ties_go_to_fewer_games_then_to_who_reached_the_rating_first(api) -> None:
    region = fresh_region()
    rec = recorder(api)
    start = now_ms()
    # player 1 reaches 1100 in two games, player 2 and 3 in one; 2 got there first.
    await rec.record(duel(player(1, 1, mmr_after=1050), player(9, 2, mmr_after=500), region=region, end_ms=start))
    await rec.record(duel(player(1, 1, mmr_after=1100), player(9, 2, mmr_after=500), region=region, end_ms=start + 1))
    await rec.record(duel(player(2, 1, mmr_after=1100), player(9, 2, mmr_after=500), region=region, end_ms=start + 2))
    await rec.record(duel(player(3, 1, mmr_after=1100), player(9, 2, mmr_after=500), region=region, end_ms=start + 3))
    _, body = await board(api, region=region)
    assert [e["username"] for e in body["entries"]] == ["player2", "player3", "player1", "player9"]
    assert [(await me(api, uid, region=region))["rank"] for uid in (2, 3, 1, 9)] == [1, 2, 3, 4]


async def test_pages_follow_each_other_with_has_more(api) -> None:
    region = fresh_region()
    ratings = [1000 + 7 * i for i in range(23)]
    await seed_ratings(api, region, ratings)
    seen: list[int] = []
    for offset in range(0, 30, 10):
        status, body = await board(api, region=region, limit=10, offset=offset)
        assert status == 200
        assert [e["rank"] for e in body["entries"]] == list(range(offset + 1, offset + 1 + len(body["entries"])))
        assert body["hasMore"] == (offset + 10 < len(ratings))
        seen.extend(e["mmr"] for e in body["entries"])
    assert seen == sorted(ratings, reverse=True)
    _, past_end = await board(api, region=region, offset=100)
    assert past_end["entries"] == [] and past_end["hasMore"] is False


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ratings=st.lists(st.integers(min_value=0, max_value=2500), min_size=2, max_size=14))
async def test_an_exact_rank_is_the_position_on_the_full_board(api, ratings: list[int]) -> None:
    if len(ratings) % 2:
        ratings = ratings[:-1]
    region = fresh_region()
    await seed_ratings(api, region, ratings)
    _, body = await board(api, region=region, limit=100)
    positions = {e["username"]: e["rank"] for e in body["entries"]}
    assert sorted(e["mmr"] for e in body["entries"]) == sorted(ratings)
    assert [e["mmr"] for e in body["entries"]] == sorted(ratings, reverse=True)
    for user_id in range(1, len(ratings) + 1):
        mine = await me(api, user_id, region=region)
        assert mine["rank"] == positions[f"player{user_id}"]
        assert mine["mmr"] == ratings[user_id - 1]


async def test_me_without_an_entry_is_all_nulls_and_needs_a_token(api) -> None:
    mine = await me(api, 4242, region=fresh_region())
    assert (mine["rank"], mine["mmr"], mine["wins"], mine["losses"], mine["winRate"]) == (None,) * 5
    status, body, _ = await api.get("/api/leaderboard/me")
    assert status == 401 and "error" in body


async def test_solo_board_keeps_each_players_best_length(api) -> None:
    region = fresh_region()
    rec = recorder(api)
    for user_id, score in ((1, 12), (2, 40), (1, 55), (1, 20), (3, 40)):
        await rec.record(solo(user_id, score, region=region))
    status, body = await board(api, game_type="solo", region=region)
    assert status == 200
    assert [(e["rank"], e["username"], e["score"]) for e in body["entries"]] == [
        (1, "player1", 55),
        (2, "player2", 40),
        (3, "player3", 40),
    ]
    assert set(body["entries"][0]) == {"rank", "username", "score", "timestamp", "gameId"}
    mine = await me(api, 3, game_type="solo", region=region)
    assert (mine["rank"], mine["score"]) == (3, 40)


async def test_a_new_season_starts_an_empty_board_and_the_old_one_stays_readable(api) -> None:
    region = fresh_region()
    current = season_at(now_ms(), 1)
    previous = season_at(current.start_ms - 1, 1)
    rec = recorder(api)
    await rec.record(
        duel(player(1, 1, mmr_after=1400), player(2, 2, mmr_after=700), region=region, end_ms=previous.end_ms - 1)
    )
    await rec.record(
        duel(player(3, 1, mmr_after=1020), player(1, 2, mmr_after=1380), region=region, end_ms=current.start_ms)
    )
    _, old = await board(api, region=region, season=previous.id)
    assert [(e["username"], e["mmr"]) for e in old["entries"]] == [("player1", 1400), ("player2", 700)]
    _, new = await board(api, region=region)
    assert [(e["username"], e["mmr"], e["wins"], e["losses"]) for e in new["entries"]] == [
        ("player1", 1380, 0, 1),
        ("player3", 1020, 1, 0),
    ]
    status, seasons, _ = await api.get("/api/leaderboard/seasons")
    assert status == 200 and seasons["current"] == current.id
    assert seasons["seasons"][0]["id"] == current.id


async def test_bad_parameters_get_400_naming_the_allowed_values(api) -> None:
    cases = {
        "game_type=chess": "duel, ffa, solo",
        "limit=0": "1 to 100",
        "limit=101": "1 to 100",
        "limit=ten": "1 to 100",
        "offset=-1": "offset",
        "season=2999-01": "YYYY-MM",
        "season=last": "YYYY-MM",
        "queue_mode=ranked": "quickmatch, competitive",
        "region=%3Cscript%3E": "region",
    }
    for query, allowed in cases.items():
        status, body, _ = await api.get(f"/api/leaderboard?{query}")
        assert status == 400, query
        assert allowed in body["error"], (query, body)
    status, body, _ = await api.get("/api/players/nobody-here/games?cursor=%21%21")
    assert status == 404  # the name is checked before the cursor


async def test_profiles_and_histories_of_registered_players(api) -> None:
    _, alice, _ = await api.register("alice")
    _, bob, _ = await api.register("bob")
    a, b = alice["user"]["id"], bob["user"]["id"]
    rec = recorder(api)
    start = now_ms()
    for i in range(5):
        first, second = (
            player(a, 1, mmr_after=1010 + i, username="alice"),
            player(b, 2, mmr_after=990 - i, username="bob"),
        )
        await rec.record(duel(first, second, end_ms=start + i * 1000, game_id=900_000 + i))
    await rec.record(solo(a, 33, end_ms=start + 9000))

    status, profile, _ = await api.get("/api/players/ALICE")
    assert status == 200
    assert (profile["id"], profile["username"]) == (a, "alice")
    assert profile["stats"]["duel"] == {"mmr": 1014, "wins": 5, "losses": 0, "gamesPlayed": 5, "bestScore": None}
    assert profile["stats"]["solo"]["bestScore"] == 33
    assert profile["stats"]["ffa"]["gamesPlayed"] == 0

    ids: list[int] = []
    cursor = None
    for expected in (2, 2, 2):
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        # Her own view: the solo game is private, hidden from others' view.
        status, page, _ = await api.get(
            "/api/players/alice/games", params=params, headers={"Authorization": f"Bearer {alice['token']}"}
        )
        assert status == 200 and len(page["games"]) == expected
        ids.extend(g["gameId"] for g in page["games"])
        cursor = page["cursor"]
        assert page["hasMore"] == (cursor is not None)
    assert cursor is None
    assert ids[1:] == [900_004, 900_003, 900_002, 900_001, 900_000]  # newest first, after the solo game
    _, page, _ = await api.get("/api/players/bob/games", params={"limit": "1"})
    (game,) = page["games"]
    assert (game["gameType"], game["place"], game["mmrChange"]) == ("duel", 2, -14)
    assert [p["username"] for p in game["players"]] == ["alice", "bob"]

    status, body, _ = await api.get("/api/players/alice/games", params={"cursor": "not-a-cursor"})
    assert status == 400 and "cursor" in body["error"]


async def test_unknown_players_are_404(api) -> None:
    for path in ("/api/players/ghost", "/api/players/ghost/games"):
        status, body, _ = await api.get(path)
        assert status == 404 and body == {"error": "Player not found"}


async def test_reads_share_one_budget_per_address(start_api_server) -> None:
    api = await start_api_server(read_rate_per_min=3)
    for _ in range(3):
        status, _, _ = await api.get("/api/leaderboard/seasons")
        assert status == 200
    status, body, response = await api.get("/api/leaderboard")
    assert status == 429 and "Retry-After" in response.headers and "error" in body


async def test_a_bad_season_setting_stops_the_api_from_starting(start_api_server) -> None:
    for overrides in ({"season_months": 5}, {"first_season": "December"}):
        with pytest.raises(ValueError, match="season"):
            await start_api_server(**overrides)
