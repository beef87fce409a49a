"""`GET /api/games/<id>` (a game's summary) and `GET /api/games/<id>/replay` (its events).

Who may see a game: anyone for a public one; for a private one (a custom lobby
marked private, or a solo game) only its players, by bearer token. Everyone else,
with or without a token, gets the same 404 as for an unknown game, so a private
game's existence does not leak. An invalid or revoked token is a 401. A replay that expired
(its `ttl` passed) or is not written yet is a 404 too; the summary then says
`replay_available: false`.

The replay is computed again from the stored inputs (`engine.replay_events`) in a
worker thread, at most `RESIMULATIONS_AT_ONCE` at a time, so a burst of replay
requests cannot hold the event loop that runs the games. A replay the engine cannot
reproduce (other rules), or one longer than `MAX_REPLAY_TICKS`, is a 409 with the
reason, never a wrong stream.

Both routes share one per-address budget of `read_rate_per_min` requests a minute, kept apart
from the leaderboard's (a player browsing boards does not spend their replays).
"""

from __future__ import annotations

import asyncio
import time

import msgspec
from aiohttp import web

from snaketron.auth import TokenIssuer
from snaketron.config import Settings
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.interface import Database
from snaketron.db.models import GameWithMembers
from snaketron.engine import GameEventMessage, ReplayMismatch, replay_events
from snaketron.http_api import CORS_HEADERS, ApiError, client_address, json_response, signed_in_user, spend_budget
from snaketron.ratelimit import Clock, KeyedRateLimiter
from snaketron.replays.codec import ReplayCorrupt
from snaketron.replays.serving import EncodedReplays, send_json_slices
from snaketron.replays.store import ReplayStore, StoredReplay

RESIMULATIONS_AT_ONCE = 2
MAX_GAME_ID = 2**31 - 1
# A replay is served whole: its events take ~270 bytes of JSON a tick and ~950 bytes
# of memory while built, ~140 times the stored form. Games have no length limit, so a
# game kept going for a day (864,000 ticks at 100 ms) would cost ~800 MB a request.
# One hour at 100 ms (~34 MB while built, ~10 MB sent) is far past any real game;
# longer ones are refused before re-simulation (`snaketron replay` still prints them).
MAX_REPLAY_TICKS = 36_000
# Encoded bodies kept for the next request of the same game (replays.serving).
ENCODED_CACHE_BYTES = 32 * 1024 * 1024
# Replay bodies being written at once; each may hold a body the cache let go of, so
# memory stays under this times the largest body (~10 MB) plus the cache. More
# requests meanwhile get 503 with Retry-After, at once.
REPLAYS_SENT_AT_ONCE = 8
SENDING_BUSY_RETRY_S = 5


class ReplayTooLong(Exception):
    pass


class PlayerSummary(msgspec.Struct):
    user_id: int
    username: str
    snake_id: int | None
    team_id: int | None
    placement: int | None  # 1 = winner; null until the game has a result


class GameSummary(msgspec.Struct):
    game_id: int
    game_type: dict | str  # wire GameType
    game_mode: str  # matchmaking, custom or solo
    status: str  # waiting, started, complete or abandoned
    is_private: bool
    players: list[PlayerSummary]  # best place first
    started_at_ms: int | None
    ended_at_ms: int | None
    duration_ms: int | None
    final_tick: int | None
    winner_user_id: int | None
    replay_available: bool


class ReplayBody(msgspec.Struct):
    game_id: int
    rules_version: int
    tick_duration_ms: int
    final_tick: int
    events: list[GameEventMessage]


def is_private(game: GameWithMembers, replay: StoredReplay | None) -> bool:
    return game.game.is_private or game.game.game_mode == "solo" or (replay is not None and replay.is_private)


def summary_of(game: GameWithMembers, replay: StoredReplay | None) -> GameSummary:
    record = game.game
    players = sorted(game.players, key=lambda p: (p.placement is None, p.placement or 0, p.snake_id or 0))
    started, ended = record.started_at_ms, record.ended_at_ms
    return GameSummary(
        game_id=record.game_id,
        game_type=record.game_type,
        game_mode=record.game_mode,
        status=record.status,
        is_private=is_private(game, replay),
        players=[PlayerSummary(p.user_id, p.username, p.snake_id, p.team_id, p.placement) for p in players],
        started_at_ms=started,
        ended_at_ms=ended,
        duration_ms=ended - started if started is not None and ended is not None else None,
        final_tick=record.final_tick,
        winner_user_id=record.winner_user_id,
        replay_available=replay is not None,
    )


def encoded_replay(replay: StoredReplay) -> bytes:
    """The replay's response body (run in a worker thread: encoding a long one takes
    tens of milliseconds the event loop should not wait)."""
    return msgspec.json.encode(resimulate(replay))


def resimulate(replay: StoredReplay) -> ReplayBody:
    recording = replay.recording()
    if recording.final_tick > MAX_REPLAY_TICKS:
        raise ReplayTooLong(
            f"it lasted {recording.final_tick} ticks and this server shows replays of at most {MAX_REPLAY_TICKS}"
        )
    events = replay_events(recording)
    first = events[0].event.Snapshot
    tick_ms = first.game_state.properties.tick_duration_ms if first is not None else 0
    return ReplayBody(recording.game_id, recording.rules_version, tick_ms, recording.final_tick, events)


class ReplayEndpoints:
    def __init__(
        self, settings: Settings, store: ReplayStore, tokens: TokenIssuer, db: Database, *, clock: Clock
    ) -> None:
        self._settings = settings
        self._store = store
        self._tokens = tokens
        self._db = db
        per_minute = settings.read_rate_per_min
        self._limit = KeyedRateLimiter.per_minute(per_minute, clock=clock) if per_minute > 0 else None
        self._resimulating = asyncio.Semaphore(RESIMULATIONS_AT_ONCE)
        self._encoded = EncodedReplays(ENCODED_CACHE_BYTES)
        self._sending = 0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(r"/api/games/{game_id:\d+}", self.summary)
        app.router.add_get(r"/api/games/{game_id:\d+}/replay", self.replay)

    async def summary(self, request: web.Request) -> web.Response:
        game, replay = await self._visible_game(request)
        return json_response(summary_of(game, replay), headers={"Cache-Control": "no-store"})

    async def replay(self, request: web.Request) -> web.StreamResponse:
        _, replay = await self._visible_game(request)
        if replay is None:
            raise ApiError(404, "No replay of this game: it has not finished, or its replay expired")
        if self._sending >= REPLAYS_SENT_AT_ONCE:
            raise ApiError(503, "Too many replays being sent, try again shortly", retry_after=SENDING_BUSY_RETRY_S)
        self._sending += 1
        try:
            body = self._encoded.get(replay.game_id)
            if body is None:
                try:
                    async with self._resimulating:
                        body = await asyncio.to_thread(encoded_replay, replay)
                except (ReplayMismatch, ReplayTooLong) as exc:
                    raise ApiError(409, f"This replay cannot be shown: {exc}") from None
                except ReplayCorrupt as exc:
                    raise ApiError(500, f"This replay is damaged: {exc}") from None
                self._encoded.put(replay.game_id, body)
            return await send_json_slices(
                request,
                body,
                headers={**CORS_HEADERS, "Cache-Control": "private, max-age=3600"},
                idle_timeout_s=self._settings.http_idle_timeout_seconds,
            )
        finally:
            self._sending -= 1

    async def _visible_game(self, request: web.Request) -> tuple[GameWithMembers, StoredReplay | None]:
        address = client_address(request, self._settings.trust_forwarded_for)
        spend_budget(self._limit, address)
        viewer = await self._viewer(request)
        game_id = int(request.match_info["game_id"])
        if game_id > MAX_GAME_ID:
            raise ApiError(404, "Game not found")
        try:
            game, replay = await self._store.load_game(game_id)
        except ReplayCorrupt as exc:
            raise ApiError(500, f"This replay is damaged: {exc}") from None
        if game is None:
            raise ApiError(404, "Game not found")
        if is_private(game, replay):
            members = {p.user_id for p in game.players} | set(replay.user_ids if replay else ())
            if viewer is None or viewer not in members:
                raise ApiError(404, "Game not found")
        return game, replay

    async def _viewer(self, request: web.Request) -> int | None:
        """The signed-in user asking, None without a token; a bad or revoked token is a
        401 (a revoked token must not keep opening its owner's private games)."""
        if "Authorization" not in request.headers:
            return None
        return (await signed_in_user(request, self._tokens, self._db)).user_id


def add_replay_routes(
    app: web.Application, settings: Settings, db: Database, tokens: TokenIssuer, *, clock: Clock = time.monotonic
) -> None:
    """Register the routes when `db` is the DynamoDB data layer replays live in."""
    if isinstance(db, DynamoDatabase):
        store = ReplayStore(db, ttl_seconds=settings.replay_ttl_seconds)
        ReplayEndpoints(settings, store, tokens, db, clock=clock).add_routes(app)
