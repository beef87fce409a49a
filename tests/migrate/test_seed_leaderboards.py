"""`snaketron migrate from-postgres` seeds the current season's boards, wins, losses and
histories from the finished legacy games it copies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import bcrypt
import psycopg
from migration_runs import migrate

from snaketron.db.dynamo import DynamoDatabase
from snaketron.leaderboard.reader import LeaderboardReader
from snaketron.leaderboard.seasons import season_at
from support.postgres import LEGACY_SCHEMA_SQL, PostgresCluster

DUEL = {"TeamMatch": {"per_team": 1}}


def _state(seats: dict[int, int], lengths: list[int], winner: int | None) -> str:
    """A legacy game_state: seats (user -> snake), straight snakes of the given lengths."""
    snakes = [
        {"body": [{"x": 0, "y": i}, {"x": length - 1, "y": i}], "direction": "Right", "is_alive": True}
        for i, length in enumerate(lengths)
    ]
    return json.dumps(
        {
            "tick": 100,
            "start_ms": 1,
            "status": {"Complete": {"winning_snake_id": winner}},
            "players": {str(u): {"user_id": u, "snake_id": s} for u, s in seats.items()},
            "arena": {"snakes": snakes},
        }
    )


def _seed(dsn: str) -> None:
    now = dt.datetime.now(dt.UTC)
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    password = bcrypt.hashpw(b"secret1", bcrypt.gensalt(rounds=4)).decode()
    users = [(1, "ann", password, 1200, old.replace(tzinfo=None)), (2, "ben", password, 1100, old.replace(tzinfo=None))]
    games: list[tuple[Any, ...]] = [
        (1, 1, json.dumps(DUEL), _state({1: 0, 2: 1}, [9, 4], 0), "finished", now, "matchmaking"),
        (2, 1, json.dumps(DUEL), _state({1: 0, 2: 1}, [3, 6], 1), "finished", now, "matchmaking"),
        (3, 1, json.dumps("Solo"), _state({1: 0}, [7], None), "finished", now, "solo"),
        (4, 1, json.dumps(DUEL), _state({1: 0, 2: 1}, [3, 6], 1), "finished", old, "matchmaking"),  # earlier season
        (5, 1, json.dumps(DUEL), json.dumps({"tick": 5, "status": "Started"}), "finished", now, "matchmaking"),
    ]
    players = [(g, u, u, old.replace(tzinfo=None)) for g in (1, 2, 4, 5) for u in (1, 2)] + [
        (3, 1, 1, old.replace(tzinfo=None))
    ]
    with psycopg.connect(dsn) as conn:
        conn.execute(LEGACY_SCHEMA_SQL)
        conn.execute(
            "INSERT INTO servers (id, grpc_address, region, created_at) VALUES (1, '10.0.0.1:50051', 'eu', %s)",
            (old.replace(tzinfo=None),),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO users (id, username, password_hash, mmr, created_at) VALUES (%s, %s, %s, %s, %s)", users
            )
            cur.executemany(
                "INSERT INTO games (id, server_id, game_type, game_state, status, ended_at, last_activity, game_mode) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(*g[:6], g[5], g[6]) for g in games],
            )
            cur.executemany(
                "INSERT INTO game_players (game_id, user_id, team_id, joined_at) VALUES (%s, %s, %s, %s)", players
            )


async def test_the_current_seasons_finished_games_reach_boards_and_histories(
    pg_cluster: PostgresCluster, target: DynamoDatabase
) -> None:
    dsn = pg_cluster.create_database("legacy_boards")
    _seed(dsn)
    report = await migrate(dsn, target)
    assert report.written.leaderboard_games == 3  # games 1-3; 4 is older, 5 never completed

    reader = LeaderboardReader(target.client, target.tables.main, target.tables.usernames)
    season = season_at(int(dt.datetime.now(dt.UTC).timestamp() * 1000), 1).id
    for scope in ("global", "eu"):
        page = await reader.page(season, "duel", scope, offset=0, limit=10)
        assert [(e["username"], e["mmr"], e["wins"], e["losses"]) for e in page.entries] == [
            ("ann", 1200, 1, 1),
            ("ben", 1100, 1, 1),
        ]
    solo = await reader.page(season, "solo", "global", offset=0, limit=10)
    assert [(e["username"], e["score"], e["gameId"]) for e in solo.entries] == [("ann", 7, 3)]
    history = await reader.history(1, limit=10, cursor=None)
    assert sorted(g["gameId"] for g in history.games) == [1, 2, 3]
    first = next(g for g in history.games if g["gameId"] == 1)
    assert (first["place"], first["score"]) == (1, 9)
    assert [(p["username"], p["place"]) for p in first["players"]] == [("ann", 1), ("ben", 2)]

    again = await migrate(dsn, target, restart=True)  # everything copied again: nothing counted twice
    assert again.written.leaderboard_games == 3
    page = await reader.page(season, "duel", "global", offset=0, limit=10)
    assert [(e["wins"], e["losses"]) for e in page.entries] == [(1, 1), (1, 1)]
