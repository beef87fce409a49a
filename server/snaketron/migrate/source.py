"""Reading the legacy PostgreSQL database: streamed, keyset-resumable, one snapshot.

Every table is read through a server-side cursor (`DECLARE ... CURSOR`), fetched
`fetch_size` rows at a time, so memory stays flat however large the table. Reads
are ordered by the table's key and start after a given key, which is how a run
resumes from a checkpoint. The whole run reads one REPEATABLE READ, READ ONLY
snapshot, so counts, renames and rows agree with each other even if something
still writes to the old database.

Timestamps without time zone are wall-clock times in the legacy server's zone
(`timezone`, UTC unless told otherwise); PostgreSQL turns them into epoch
milliseconds, so no row carries a datetime past this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from typing import Any, TypeVar

import msgspec
import psycopg
from psycopg.rows import class_row

from snaketron.migrate.legacy import (
    LegacyFinishedGame,
    LegacyGame,
    LegacyLobby,
    LegacyPlayer,
    LegacySpectator,
    LegacyUser,
)
from snaketron.migrate.usernames import LegacyAccountName

Row = TypeVar("Row")


def _ms(column: str) -> str:
    """SQL: a `timestamp without time zone` column as epoch ms in the legacy zone."""
    return f"floor(extract(epoch FROM ({column} AT TIME ZONE %(tz)s)) * 1000)::bigint"


def _ms_tz(column: str) -> str:
    """SQL: a `timestamptz` column as epoch ms."""
    return f"floor(extract(epoch FROM {column}) * 1000)::bigint"


# Live as the data layer reads it: ttl = expires_at in whole seconds, and ttl <= now is gone.
_LIVE_LOBBY = "floor(extract(epoch FROM (l.expires_at AT TIME ZONE %(tz)s)))::bigint * 1000 > %(now_ms)s"

USERS_SQL = f"""
SELECT id AS user_id, username, password_hash, mmr, {_ms("created_at")} AS created_at_ms
FROM users WHERE id > %(after)s {{extra}} ORDER BY id
"""
GAMES_SQL = f"""
SELECT g.id AS game_id, g.server_id, g.game_type, g.status, g.game_mode, g.is_private, g.game_code,
       {_ms("g.created_at")} AS created_at_ms, {_ms_tz("g.last_activity")} AS last_activity_ms,
       {_ms_tz("g.ended_at")} AS ended_at_ms,
       g.game_state -> 'start_ms' AS start_ms, g.game_state -> 'tick' AS tick,
       COALESCE(l.host_user_id, CASE WHEN jsonb_typeof(g.game_state -> 'host_user_id') = 'number'
                                     THEN (g.game_state ->> 'host_user_id')::numeric::int END) AS host_user_id
FROM games g
LEFT JOIN (SELECT DISTINCT ON (game_id) game_id, host_user_id FROM custom_game_lobbies
           WHERE game_id IS NOT NULL ORDER BY game_id, id DESC) l ON l.game_id = g.id
WHERE g.id > %(after)s {{extra}} ORDER BY g.id
"""
PLAYERS_SQL = f"""
SELECT gp.game_id, gp.user_id, u.username, gp.team_id, {_ms("gp.joined_at")} AS joined_at_ms
FROM game_players gp JOIN users u ON u.id = gp.user_id
WHERE (gp.game_id, gp.user_id) > (%(after_game)s, %(after_user)s) {{extra}} ORDER BY gp.game_id, gp.user_id
"""
SPECTATORS_SQL = f"""
SELECT s.game_id, s.user_id, {_ms("s.joined_at")} AS joined_at_ms
FROM game_spectators s
WHERE (s.game_id, s.user_id) > (%(after_game)s, %(after_user)s) {{extra}} ORDER BY s.game_id, s.user_id
"""
LOBBIES_SQL = f"""
SELECT l.id AS lobby_id, l.game_code, l.host_user_id, l.settings, l.state, l.game_id,
       g.server_id, g.is_private, {_ms("l.created_at")} AS created_at_ms, {_ms("l.expires_at")} AS expires_at_ms
FROM custom_game_lobbies l LEFT JOIN games g ON g.id = l.game_id
WHERE l.id > %(after)s AND {_LIVE_LOBBY} {{extra}} ORDER BY l.id
"""

FINISHED_GAMES_SQL = f"""
SELECT g.id AS game_id, g.server_id, s.region, g.game_type, g.game_mode, g.is_private,
       {_ms_tz("g.ended_at")} AS ended_at_ms, g.game_state -> 'start_ms' AS start_ms,
       g.game_state -> 'status' AS status, g.game_state -> 'players' AS seats,
       g.game_state -> 'arena' -> 'snakes' AS snakes,
       COALESCE((SELECT json_agg(json_build_array(gp.user_id, u.username, gp.team_id, u.mmr) ORDER BY gp.user_id)
                 FROM game_players gp JOIN users u ON u.id = gp.user_id WHERE gp.game_id = g.id), '[]') AS players
FROM games g LEFT JOIN servers s ON s.id = g.server_id
WHERE g.status = 'finished' AND g.ended_at IS NOT NULL AND g.ended_at >= to_timestamp(%(since_ms)s / 1000.0)
  AND g.id > %(after)s {{extra}}
ORDER BY g.id
"""


class SourceCounts(msgspec.Struct, kw_only=True):
    """Rows the migration carries, per entity, as the source sees them."""

    users: int
    games: int
    players: int
    spectators: int
    lobbies: int  # live ones only


class SourceMaxIds(msgspec.Struct, kw_only=True):
    user: int
    game: int
    server: int  # servers are not copied, but migrated games name them


class PostgresSource:
    def __init__(self, conn: psycopg.AsyncConnection[Any], *, timezone: str = "UTC", fetch_size: int = 2_000) -> None:
        self._conn = conn
        self._tz = timezone
        self.fetch_size = fetch_size
        self._cursors = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, dsn: str, *, timezone: str = "UTC", fetch_size: int = 2_000) -> AsyncIterator[PostgresSource]:
        conn = await psycopg.AsyncConnection.connect(dsn)
        try:
            await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
            await conn.set_read_only(True)
            source = cls(conn, timezone=timezone, fetch_size=fetch_size)
            await source._check_timezone()
            yield source
        finally:
            await conn.close()

    async def _check_timezone(self) -> None:
        # Fail before the first write when the zone name is unknown to PostgreSQL.
        await self._fetch_all("SELECT now() AT TIME ZONE %(tz)s", {})

    async def _fetch_all(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        async with self._conn.cursor() as cur:
            await cur.execute(sql, {"tz": self._tz, **params})
            return await cur.fetchall()

    async def _stream(self, sql: str, params: dict[str, Any], row_type: type[Row]) -> AsyncIterator[Row]:
        self._cursors += 1
        async with self._conn.cursor(name=f"migrate_{self._cursors}", row_factory=class_row(row_type)) as cur:
            cur.itersize = self.fetch_size
            await cur.execute(sql, {"tz": self._tz, **params})
            async for row in cur:
                yield row

    # --- streams, each resumable after a key -------------------------------------------

    def users(self, *, after: int = 0) -> AsyncIterator[LegacyUser]:
        return self._stream(USERS_SQL.format(extra=""), {"after": after}, LegacyUser)

    def games(self, *, after: int = 0) -> AsyncIterator[LegacyGame]:
        return self._stream(GAMES_SQL.format(extra=""), {"after": after}, LegacyGame)

    def finished_games(self, *, since_ms: int, after: int = 0) -> AsyncIterator[LegacyFinishedGame]:
        """Finished games that ended at or after `since_ms`, with their players."""
        return self._stream(
            FINISHED_GAMES_SQL.format(extra=""), {"after": after, "since_ms": since_ms}, LegacyFinishedGame
        )

    def players(self, *, after: tuple[int, int] = (0, 0)) -> AsyncIterator[LegacyPlayer]:
        return self._stream(
            PLAYERS_SQL.format(extra=""), {"after_game": after[0], "after_user": after[1]}, LegacyPlayer
        )

    def spectators(self, *, after: tuple[int, int] = (0, 0)) -> AsyncIterator[LegacySpectator]:
        return self._stream(
            SPECTATORS_SQL.format(extra=""), {"after_game": after[0], "after_user": after[1]}, LegacySpectator
        )

    def lobbies(self, *, now_ms: int, after: int = 0) -> AsyncIterator[LegacyLobby]:
        """Lobbies that have not expired at `now_ms`; expired ones are not carried."""
        return self._stream(LOBBIES_SQL.format(extra=""), {"after": after, "now_ms": now_ms}, LegacyLobby)

    # --- whole-table facts ------------------------------------------------------------

    async def counts(self, *, now_ms: int) -> SourceCounts:
        ((users, games, players, spectators, lobbies),) = await self._fetch_all(
            f"""SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM games),
                       (SELECT count(*) FROM game_players), (SELECT count(*) FROM game_spectators),
                       (SELECT count(*) FROM custom_game_lobbies l WHERE {_LIVE_LOBBY})""",
            {"now_ms": now_ms},
        )
        return SourceCounts(users=users, games=games, players=players, spectators=spectators, lobbies=lobbies)

    async def max_ids(self) -> SourceMaxIds:
        ((user, game, server),) = await self._fetch_all(
            """SELECT COALESCE((SELECT max(id) FROM users), 0), COALESCE((SELECT max(id) FROM games), 0),
                      COALESCE((SELECT max(id) FROM servers), 0)""",
            {},
        )
        return SourceMaxIds(user=user, game=game, server=server)

    async def case_collision_groups(self) -> list[list[LegacyAccountName]]:
        """Accounts whose names are equal but for letter case, grouped, oldest first."""
        rows = await self._fetch_all(
            f"""SELECT id, username, {_ms("created_at")} FROM users
                WHERE lower(username) IN (SELECT lower(username) FROM users GROUP BY 1 HAVING count(*) > 1)
                ORDER BY lower(username), created_at, id""",
            {},
        )
        groups: dict[str, list[LegacyAccountName]] = {}
        for user_id, username, created_at_ms in rows:
            groups.setdefault(username.lower(), []).append(
                LegacyAccountName(user_id=user_id, username=username, created_at_ms=created_at_ms)
            )
        return list(groups.values())

    async def names_to_check(self) -> list[tuple[int, str]]:
        """(id, name) of accounts whose names may break today's rules: a cheap prefilter
        in SQL; `snaketron.auth.validate_username` has the final word."""
        return [
            (user_id, name)
            for user_id, name in await self._fetch_all(
                "SELECT id, username FROM users WHERE username !~ '^[A-Za-z0-9][A-Za-z0-9_-]{1,18}[A-Za-z0-9]$' ORDER BY id",
                {},
            )
        ]

    async def taken_names(self, lower_names: Collection[str]) -> set[str]:
        """Which of these lower-cased names a legacy account holds (in any case): one scan."""
        if not lower_names:
            return set()
        rows = await self._fetch_all(
            "SELECT DISTINCT lower(username) FROM users WHERE lower(username) = ANY(%(names)s)",
            {"names": list(lower_names)},
        )
        return {name for (name,) in rows}

    # --- samples for verification -----------------------------------------------------

    async def _sample_keys(self, sql: str, size: int) -> list[tuple[Any, ...]]:
        # random() over a key-only scan: fine once per run even for millions of rows.
        return await self._fetch_all(f"{sql} ORDER BY random() LIMIT %(size)s", {"size": size})

    async def sample_users(self, size: int) -> list[LegacyUser]:
        keys = [k for (k,) in await self._sample_keys("SELECT id FROM users", size)]
        return await self._rows(USERS_SQL.format(extra="AND id = ANY(%(ids)s)"), {"after": 0, "ids": keys}, LegacyUser)

    async def sample_games(self, size: int) -> list[LegacyGame]:
        keys = [k for (k,) in await self._sample_keys("SELECT id FROM games", size)]
        return await self._rows(
            GAMES_SQL.format(extra="AND g.id = ANY(%(ids)s)"), {"after": 0, "ids": keys}, LegacyGame
        )

    async def players_of(self, game_ids: list[int]) -> list[LegacyPlayer]:
        return await self._rows(
            PLAYERS_SQL.format(extra="AND gp.game_id = ANY(%(ids)s)"),
            {"after_game": 0, "after_user": 0, "ids": game_ids},
            LegacyPlayer,
        )

    async def spectators_of(self, game_ids: list[int]) -> list[LegacySpectator]:
        return await self._rows(
            SPECTATORS_SQL.format(extra="AND s.game_id = ANY(%(ids)s)"),
            {"after_game": 0, "after_user": 0, "ids": game_ids},
            LegacySpectator,
        )

    async def sample_lobbies(self, size: int, *, now_ms: int) -> list[LegacyLobby]:
        keys = [
            k
            for (k,) in await self._fetch_all(
                f"SELECT l.id FROM custom_game_lobbies l WHERE {_LIVE_LOBBY} ORDER BY random() LIMIT %(size)s",
                {"size": size, "now_ms": now_ms},
            )
        ]
        return await self._rows(
            LOBBIES_SQL.format(extra="AND l.id = ANY(%(ids)s)"),
            {"after": 0, "now_ms": now_ms, "ids": keys},
            LegacyLobby,
        )

    async def _rows(self, sql: str, params: dict[str, Any], row_type: type[Row]) -> list[Row]:
        async with self._conn.cursor(row_factory=class_row(row_type)) as cur:
            await cur.execute(sql, {"tz": self._tz, **params})
            return await cur.fetchall()
