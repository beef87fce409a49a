"""HTTP endpoints of the leaderboards and player pages (PROTOCOL.md, "Leaderboards").

    GET /api/leaderboard?game_type=&season=&region=&limit=&offset=&queue_mode=
    GET /api/leaderboard/me?game_type=&season=&region=      (bearer token)
    GET /api/leaderboard/seasons
    GET /api/players/{username}
    GET /api/players/{username}/games?limit=&cursor=

Errors are the API's `{"error": ...}`; a bad parameter is a 400 that names the
allowed values. All five share one budget per client address
(SNAKETRON_READ_RATE_PER_MIN).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from snaketron.config import Settings
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.models import UserRecord
from snaketron.http_api import (
    DB_KEY,
    SETTINGS_KEY,
    TOKENS_KEY,
    ApiError,
    client_address,
    json_response,
    signed_in_user,
    spend_budget,
)
from snaketron.leaderboard.keys import GLOBAL, BoardType
from snaketron.leaderboard.reader import BadCursor, LeaderboardReader
from snaketron.leaderboard.seasons import Season, parse_season, season_at, seasons_until
from snaketron.ratelimit import Clock, KeyedRateLimiter

GAME_TYPES: dict[str, BoardType] = {
    "duel": "duel",
    "1v1": "duel",
    "ffa": "ffa",
    "free-for-all": "ffa",
    "solo": "solo",
}
QUEUE_MODES = ("quickmatch", "competitive")
REGION = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# A page past the first reads the board from the start of the rating bucket that
# holds `offset`; when many players share one bucket (every new player's rating, or
# the few solo lengths) that read grows with the skip inside it: offset 10,000 into
# one crowded bucket took 7.5 s of the embedded endpoint (RELIABILITY.md). This cap
# keeps a page at most MAX_OFFSET + MAX_LIMIT + 1 entries read (one Query page)
# whatever the board's size; a player further down sees their exact rank with
# /api/leaderboard/me.
MAX_OFFSET = 1_000
DEFAULT_HISTORY_LIMIT = 20
MAX_USERNAME = 255


class SeasonView(msgspec.Struct):
    id: str
    startsAt: int
    endsAt: int


class SeasonList(msgspec.Struct):
    seasons: list[SeasonView]
    current: str


class BoardView(msgspec.Struct):
    entries: list[dict[str, Any]]
    season: str
    gameType: str
    queueMode: str
    region: str | None
    hasMore: bool


class MyRank(msgspec.Struct):
    rank: int | None
    mmr: int | None
    wins: int | None
    losses: int | None
    winRate: float | None
    score: int | None
    season: str
    gameType: str


class GameTypeStats(msgspec.Struct):
    mmr: int | None
    wins: int
    losses: int
    gamesPlayed: int
    bestScore: int | None


class Profile(msgspec.Struct):
    id: int
    username: str
    createdAt: int | None
    mmr: int | None
    stats: dict[str, GameTypeStats]


class HistoryView(msgspec.Struct):
    games: list[dict[str, Any]]
    cursor: str | None
    hasMore: bool


def win_rate(wins: int, losses: int) -> float:
    games = wins + losses
    return round(100.0 * wins / games, 1) if games else 0.0


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be an integer from {low} to {high}")
    return value


class LeaderboardEndpoints:
    def __init__(
        self,
        settings: Settings,
        reader: LeaderboardReader,
        *,
        authenticate: Callable[[web.Request], Awaitable[UserRecord]],
        clock: Clock = time.monotonic,
        wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        # Refuse a bad season length or first season at start-up, not on the first request.
        seasons_until(wall_ms(), settings.first_season, settings.season_months)
        self._settings = settings
        self._reader = reader
        self._authenticate = authenticate
        self._wall_ms = wall_ms
        per_minute = settings.read_rate_per_min
        self._limiter = KeyedRateLimiter.per_minute(per_minute, clock=clock) if per_minute > 0 else None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/leaderboard", self.board)
        app.router.add_get("/api/leaderboard/me", self.me)
        app.router.add_get("/api/leaderboard/seasons", self.seasons)
        app.router.add_get("/api/players/{username}", self.profile)
        app.router.add_get("/api/players/{username}/games", self.games)

    # --- handlers -----------------------------------------------------------------------

    async def board(self, request: web.Request) -> web.Response:
        self._take_budget(request)
        board, label = self._game_type(request)
        season = self._season(request)
        scope = self._scope(request)
        queue_mode = self._queue_mode(request)
        limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0, MAX_OFFSET)
        page = await self._reader.page(season.id, board, scope, offset=offset, limit=limit)
        entries = [_board_row(board, row) for row in page.entries]
        return json_response(
            BoardView(
                entries=entries,
                season=season.id,
                gameType=label,
                queueMode=queue_mode,
                region=None if scope == GLOBAL else scope,
                hasMore=page.has_more,
            ),
            headers={"Cache-Control": "no-store"},
        )

    async def me(self, request: web.Request) -> web.Response:
        self._take_budget(request)
        user = await self._authenticate(request)
        board, label = self._game_type(request)
        season = self._season(request)
        scope = self._scope(request)
        self._queue_mode(request)
        entry = await self._reader.entry(user.user_id, season.id, board, scope)
        if entry is None:
            view = MyRank(None, None, None, None, None, None, season.id, label)
        else:
            rank = await self._reader.rank_of(entry, season.id, board, scope)
            if board == "solo":
                view = MyRank(rank, None, None, None, None, entry["score"], season.id, label)
            else:
                wins, losses = entry["wins"], entry["losses"]
                view = MyRank(rank, entry["mmr"], wins, losses, win_rate(wins, losses), None, season.id, label)
        return json_response(view, headers={"Cache-Control": "no-store"})

    async def seasons(self, request: web.Request) -> web.Response:
        self._take_budget(request)
        months = self._settings.season_months
        now = self._wall_ms()
        listed = seasons_until(now, self._settings.first_season, months)
        return json_response(
            SeasonList(
                seasons=[SeasonView(s.id, s.start_ms, s.end_ms) for s in listed],
                current=season_at(now, months).id,
            )
        )

    async def profile(self, request: web.Request) -> web.Response:
        self._take_budget(request)
        user_id = await self._user_id(request)
        user, stats_items = await self._reader.profile_items(user_id)
        if user is None:
            raise ApiError(404, "Player not found")
        stats = {
            str(item["gameType"]): GameTypeStats(
                mmr=item.get("mmr"),
                wins=item.get("wins", 0),
                losses=item.get("losses", 0),
                gamesPlayed=item.get("games", 0),
                bestScore=item.get("bestScore"),
            )
            for item in stats_items
        }
        for game_type in ("duel", "ffa", "solo"):
            stats.setdefault(game_type, GameTypeStats(None, 0, 0, 0, None))
        return json_response(
            Profile(
                id=user_id,
                username=user["username"],
                createdAt=user.get("createdAt"),
                mmr=user.get("mmr"),
                stats=stats,
            ),
            headers={"Cache-Control": "no-store"},
        )

    async def games(self, request: web.Request) -> web.Response:
        self._take_budget(request)
        limit = _int_param(request, "limit", DEFAULT_HISTORY_LIMIT, 1, MAX_LIMIT)
        cursor = request.query.get("cursor") or None
        if cursor is not None and len(cursor) > 200:
            raise ApiError(400, "cursor is not one this server issued")
        user_id = await self._user_id(request)
        viewer = (await self._authenticate(request)).user_id if "Authorization" in request.headers else None
        try:
            page = await self._reader.history(user_id, limit=limit, cursor=cursor)
        except BadCursor as exc:
            raise ApiError(400, str(exc)) from None
        # Private games (private lobbies, solo games) are their players' business, as
        # their summaries and replays are: others do not see them in a history. The
        # cursor still follows the rows read, so a page may show fewer than `limit`.
        shown = [g for g in page.games if viewer == user_id or not is_private_row(g)]
        return json_response(
            HistoryView(games=[_history_row(g) for g in shown], cursor=page.cursor, hasMore=page.cursor is not None),
            headers={"Cache-Control": "no-store"},
        )

    # --- parameters -----------------------------------------------------------------------

    def _take_budget(self, request: web.Request) -> None:
        spend_budget(self._limiter, client_address(request, self._settings.trust_forwarded_for))

    def _game_type(self, request: web.Request) -> tuple[BoardType, str]:
        raw = request.query.get("game_type", "duel").lower()
        board = GAME_TYPES.get(raw)
        if board is None:
            raise ApiError(400, "game_type must be one of duel, ffa, solo (or the aliases 1v1, free-for-all)")
        return board, board

    def _season(self, request: web.Request) -> Season:
        months = self._settings.season_months
        current = season_at(self._wall_ms(), months)
        raw = request.query.get("season")
        if raw is None or raw == "" or raw == "current":
            return current
        season = parse_season(raw, months)
        if season is None or season.start_ms > current.start_ms:
            raise ApiError(
                400,
                f"season must be 'current' or a season id YYYY-MM no later than {current.id} "
                f"whose month starts a {months}-month season (see /api/leaderboard/seasons)",
            )
        return season

    def _scope(self, request: web.Request) -> str:
        raw = request.query.get("region")
        if raw is None or raw == "" or raw.lower() == GLOBAL:
            return GLOBAL
        if not REGION.match(raw):
            raise ApiError(400, "region must be 1 to 64 letters, digits, '.', '_' or '-' (or 'global')")
        return raw

    def _queue_mode(self, request: web.Request) -> str:
        # One rated queue today: both modes read the same boards.
        raw = request.query.get("queue_mode", "competitive").lower()
        if raw not in QUEUE_MODES:
            raise ApiError(400, f"queue_mode must be one of {', '.join(QUEUE_MODES)}")
        return raw

    async def _user_id(self, request: web.Request) -> int:
        username = request.match_info["username"]
        if not 0 < len(username) <= MAX_USERNAME:
            raise ApiError(404, "Player not found")
        user_id = await self._reader.user_id_of(username)
        if user_id is None:
            raise ApiError(404, "Player not found")
        return user_id


def _board_row(board: BoardType, row: dict[str, Any]) -> dict[str, Any]:
    if board == "solo":
        return {
            "rank": row["rank"],
            "username": row["username"],
            "score": row["score"],
            "timestamp": row["timestamp"],
            "gameId": row["gameId"],
        }
    return {
        "rank": row["rank"],
        "username": row["username"],
        "mmr": row["mmr"],
        "wins": row["wins"],
        "losses": row["losses"],
        "winRate": win_rate(row["wins"], row["losses"]),
    }


def is_private_row(row: dict[str, Any]) -> bool:
    """Whether a history row is of a game only its players may see (as replays/api.py
    decides for summaries and replays: a private lobby or a solo game)."""
    return bool(row.get("private")) or row.get("kind") == "solo" or row.get("gameType") == "solo"


def _history_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "gameId": row["gameId"],
        "gameType": row["gameType"],
        "rated": row.get("rated", False),
        "abandoned": row.get("abandoned", False),
        "startedAt": row.get("startedAt"),
        "endedAt": row["endedAt"],
        "durationMs": row.get("durationMs", 0),
        "place": row.get("place"),
        "score": row.get("score"),
        "mmrChange": row.get("mmrChange"),
        "players": row.get("players", []),
    }


def add_leaderboard_routes(app: web.Application, *, clock: Clock = time.monotonic) -> None:
    """Add the endpoints to the API app, when its database is DynamoDB (the only one
    that holds boards); a test app with a stand-in database goes without them."""
    db = app[DB_KEY]
    if not isinstance(db, DynamoDatabase):
        return
    reader = LeaderboardReader(db.client, db.tables.main, db.tables.usernames)
    tokens = app[TOKENS_KEY]

    async def authenticate(request: web.Request) -> UserRecord:
        return await signed_in_user(request, tokens, db)

    LeaderboardEndpoints(app[SETTINGS_KEY], reader, authenticate=authenticate, clock=clock).add_routes(app)
