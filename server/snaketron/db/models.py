"""Domain records the data layer reads and writes.

These are what callers see; the DynamoDB item shapes (pk/sk, GSI keys, ttl) stay
inside `snaketron.db`. Times are epoch milliseconds (UTC) unless a name says
otherwise. JSON-shaped payloads (`game_type`, `settings`) are plain dicts in the
wire shape of PROTOCOL.md, so the data layer needs nothing from the engine.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

ServerStatus = Literal["active", "draining", "offline"]
GameStatusName = Literal["waiting", "started", "complete", "abandoned"]
GameKind = Literal["matchmaking", "custom", "solo"]


DatabaseState = Literal["ok", "restarting", "unavailable"]
EndpointKind = Literal["embedded", "configured", "aws"]


class DatabaseHealth(msgspec.Struct, kw_only=True, rename="camel"):
    """What the server knows about its database beyond one ping (GET /api/health)."""

    endpoint: EndpointKind
    state: DatabaseState = "ok"  # "restarting": the embedded endpoint died and is being replaced
    restarts: int = 0  # of the embedded endpoint; each one lost every item it held
    data_lost_at_ms: int | None = None  # when the last restart lost the data


class ServerRecord(msgspec.Struct, kw_only=True):
    server_id: int
    region: str
    ws_url: str
    api_url: str
    internal_url: str = ""  # relay endpoint for other servers of the cluster
    status: ServerStatus = "active"
    current_game_count: int = 0
    current_player_count: int = 0
    max_game_capacity: int = 0
    last_heartbeat_ms: int = 0
    created_at_ms: int = 0


class UserRecord(msgspec.Struct, kw_only=True):
    user_id: int
    username: str  # display case
    password_hash: str
    mmr: int = 1000
    rating_mu: float | None = None  # openskill state; None until the first rated game
    rating_sigma: float | None = None
    games_played: int = 0
    # The season (e.g. "2026-12") of the rated game that wrote the rating: a game of a
    # later season starts from its soft reset. None: no rated game since seasons carry
    # ratings (a migrated or older rating), which counts as the current season's.
    rating_season: str | None = None
    created_at_ms: int = 0
    # Tokens issued with an older generation are refused (password change, logout-all).
    token_generation: int = 0


class RatingUpdate(msgspec.Struct, kw_only=True):
    """One player's new rating after a matchmade game."""

    user_id: int
    username: str
    mmr: int
    rating_mu: float
    rating_sigma: float
    games_played: int
    rating_season: str | None = None  # the season the new rating belongs to (None: left as it is)
    # The gamesPlayed the new rating was computed from: the write is guarded on it, so a
    # stale copy never overwrites a newer rating (None: unguarded, e.g. a migration).
    games_played_before: int | None = None
    # The ratingMu and ratingSigma it was computed from, guarded too (None: not guarded).
    # gamesPlayed alone names one stored state only if every rating a server hands out has
    # landed; the ratings of a game still being written are handed out
    # (persistence.GameRecorder), and another server may meanwhile land a different rating
    # at the same gamesPlayed.
    rating_mu_before: float | None = None
    rating_sigma_before: float | None = None


class GameRecord(msgspec.Struct, kw_only=True):
    game_id: int
    server_id: int
    game_type: dict[str, Any] | str  # wire GameType, e.g. "Solo" or {"FreeForAll": {"max_players": 4}}
    game_mode: GameKind
    status: GameStatusName = "waiting"
    is_private: bool = False
    allow_spectators: bool = True
    game_code: str | None = None
    host_user_id: int | None = None
    created_at_ms: int = 0
    updated_at_ms: int = 0
    started_at_ms: int | None = None
    ended_at_ms: int | None = None
    winning_snake_id: int | None = None
    winner_user_id: int | None = None
    final_tick: int | None = None


class GamePlayerRecord(msgspec.Struct, kw_only=True):
    game_id: int
    user_id: int
    username: str
    team_id: int | None = None
    snake_id: int | None = None
    joined_at_ms: int = 0
    placement: int | None = None  # 1 = winner; set with the result
    mmr_before: int | None = None
    mmr_after: int | None = None


class SpectatorRecord(msgspec.Struct, kw_only=True):
    game_id: int
    user_id: int
    joined_at_ms: int = 0


class GameWithMembers(msgspec.Struct, kw_only=True):
    game: GameRecord
    players: list[GamePlayerRecord]
    spectators: list[SpectatorRecord]


class LobbyRecord(msgspec.Struct, kw_only=True):
    game_code: str
    game_id: int
    host_user_id: int
    settings: dict[str, Any]  # wire CustomGameSettings
    state: Literal["waiting", "started", "closed"] = "waiting"
    server_id: int = 0
    created_at_ms: int = 0
    expires_at_ms: int = 0


class MatchTicket(msgspec.Struct, kw_only=True):
    region: str
    queue_key: str  # canonical game type key, e.g. "ffa4", "team1"
    user_id: int
    username: str
    mmr: int
    server_id: int
    enqueued_at_ms: int
    matched_game_id: int | None = None
    # The player's rating state, carried so that rating a matchmade game needs no reads.
    rating_mu: float | None = None
    rating_sigma: float | None = None
    games_played: int = 0
    rating_season: str | None = None  # the user's, read with the rating (UserRecord.rating_season)


class Lease(msgspec.Struct, kw_only=True):
    name: str
    owner: str
    expires_at_ms: int


class Page(msgspec.Struct, kw_only=True):
    """One page of a paginated listing; pass `cursor` back to get the next."""

    items: list[Any]
    cursor: str | None = None
