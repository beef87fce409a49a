"""Rows of the legacy PostgreSQL schema (docs/LEGACY_POSTGRES.md) as read for migration.

The SQL in `snaketron.migrate.source` already turns timestamps into epoch
milliseconds and picks the few `game_state` fields worth keeping, so these
records are plain values and the mapping to domain records stays pure.
"""

from __future__ import annotations

from typing import Any

import msgspec


class LegacyUser(msgspec.Struct, kw_only=True):
    user_id: int
    username: str
    password_hash: str
    mmr: int
    created_at_ms: int


class LegacyGame(msgspec.Struct, kw_only=True):
    game_id: int
    server_id: int | None
    game_type: Any  # jsonb GameType: "Solo" or {"FreeForAll": {...}}, ...
    status: str  # waiting | active | finished | abandoned
    game_mode: str  # matchmaking | custom | solo
    is_private: bool
    game_code: str | None
    created_at_ms: int
    last_activity_ms: int
    ended_at_ms: int | None
    start_ms: Any  # game_state -> 'start_ms' (jsonb, may be absent or malformed)
    tick: Any  # game_state -> 'tick'
    host_user_id: int | None  # the game's lobby host, else game_state -> 'host_user_id'


class LegacyPlayer(msgspec.Struct, kw_only=True):
    game_id: int
    user_id: int
    username: str
    team_id: int
    joined_at_ms: int


class LegacySpectator(msgspec.Struct, kw_only=True):
    game_id: int
    user_id: int
    joined_at_ms: int


class LegacyLobby(msgspec.Struct, kw_only=True):
    lobby_id: int
    game_code: str
    host_user_id: int
    settings: Any  # jsonb CustomGameSettings
    state: str
    game_id: int | None
    server_id: int | None
    is_private: bool | None  # of the lobby's game; None when it has none
    created_at_ms: int
    expires_at_ms: int


class LegacyFinishedGame(msgspec.Struct, kw_only=True):
    """A finished game with what the boards need, read for seeding the current season."""

    game_id: int
    server_id: int | None
    region: str | None  # of the server that hosted it, when it is still listed
    game_type: Any
    game_mode: str
    is_private: bool
    ended_at_ms: int
    start_ms: Any  # game_state -> 'start_ms'
    status: Any  # game_state -> 'status': {"Complete": {"winning_snake_id": ...}}
    seats: Any  # game_state -> 'players': {"<user id>": {"user_id", "snake_id"}}
    snakes: Any  # game_state -> 'arena' -> 'snakes'
    players: list[tuple[int, str, int, int]]  # (user id, username, team id, the account's mmr)
