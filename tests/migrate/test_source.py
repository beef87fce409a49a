"""Reading the legacy database: keyset resumption and the legacy time zone."""

from __future__ import annotations

import psycopg
import pytest
from migration_runs import Legacy

from snaketron.migrate.source import PostgresSource


async def test_streams_resume_after_a_key_in_key_order(legacy_small: Legacy) -> None:
    async with PostgresSource.open(legacy_small.dsn, fetch_size=64) as source:
        everyone = [u.user_id async for u in source.users()]
        assert everyone == sorted(everyone) and len(everyone) == legacy_small.seed.counts["users"]
        middle = everyone[len(everyone) // 2]
        assert [u.user_id async for u in source.users(after=middle)] == [i for i in everyone if i > middle]
        players = [(p.game_id, p.user_id) async for p in source.players()]
        assert players == sorted(players) and len(players) == legacy_small.seed.counts["game_players"]
        resumed = [(p.game_id, p.user_id) async for p in source.players(after=players[100])]
        assert resumed == players[101:]


async def test_legacy_wall_clock_times_are_read_in_the_given_zone(legacy_small: Legacy) -> None:
    async with PostgresSource.open(legacy_small.dsn) as utc:
        first_utc = await anext(utc.users())
    async with PostgresSource.open(legacy_small.dsn, timezone="Europe/Paris") as paris:
        first_paris = await anext(paris.users())
    # January: Paris is UTC+1, so the same wall-clock time is an hour earlier.
    assert first_utc.created_at_ms - first_paris.created_at_ms == 3_600_000


async def test_an_unknown_zone_fails_before_anything_is_read(legacy_small: Legacy) -> None:
    with pytest.raises(psycopg.Error):
        async with PostgresSource.open(legacy_small.dsn, timezone="Mars/Olympus"):
            pass
