"""The browser client, served by the HTTP API app: `/`, its static assets,
`/client-config.json` telling the page which WebSocket URL to connect to,
`/api/games?status=started`, the live public games its Watch panel lists (rate-limited
and read at most once a second, `LiveGamesEndpoint`), and `/replay/<id>`, a shareable
replay link (a redirect to `/?replay=<id>`).

The client is plain JavaScript modules and a canvas (no build step, no CDN): what is
under `web/` is exactly what the browser runs, and the tests run the same rule code
under node against the Python engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from aiohttp import web
from yarl import URL

from snaketron.auth import InvalidToken
from snaketron.config import Settings
from snaketron.db.interface import Database
from snaketron.db.models import GameRecord, GameStatusName
from snaketron.http_api import (
    DB_KEY,
    INVALID_TOKEN,
    TOKENS_KEY,
    ApiError,
    bearer_token,
    client_address,
    json_response,
    spend_budget,
)
from snaketron.logs import get_logger
from snaketron.ratelimit import Clock, KeyedRateLimiter, SharedReads

log = get_logger(__name__)

WEB_ROOT = Path(__file__).parent / "web"
STATIC_ROOT = WEB_ROOT / "static"
INDEX_HTML = WEB_ROOT / "index.html"

# The path the browser client opens on the WebSocket port (any path is accepted there).
WS_PATH = "/ws"

# Assets change with the server version, not under a running page: let browsers keep
# them but revalidate (Last-Modified is sent by the static handler), so an upgraded
# server is picked up at the next load without stale modules.
CACHE_CONTROL = "no-cache"

BAD_HOST_HEADER = "Bad Request: the Host header is not a valid host[:port]"
# What of a bad Host header (and its path) the warning repeats: the client chose them.
MAX_LOGGED_HOST = 80


# The Watch panel shows at most this many games; one listing page (one Query, at most
# this many items however many games are stored) is read for them.
LIVE_GAMES_SHOWN = 50
LIVE_GAMES_READ = 200
# How long one read of a status's list answers everyone.
LIVE_GAMES_CACHE_SECONDS = 1.0
LISTED_STATUSES: tuple[GameStatusName, ...] = ("started", "waiting")


class ClientConfig(msgspec.Struct):
    """What the page needs to know about this server, as `/client-config.json`."""

    ws_url: str
    # Base URL of the HTTP API; empty: the page's own origin (the API serves the page).
    api_url: str


class LiveGame(msgspec.Struct):
    """A public game anyone signed in may watch by its id (no code: codes of lobbies let
    people join as players, so they are only shared by their hosts)."""

    game_id: int
    game_type: dict | str  # wire GameType
    game_mode: str  # matchmaking, custom or solo
    status: str
    server_id: int
    started_at_ms: int | None


class LiveGames(msgspec.Struct):
    games: list[LiveGame]


def watchable(game: GameRecord) -> bool:
    return not game.is_private and game.allow_spectators


class LiveGamesEndpoint:
    """`GET /api/games?status=started|waiting` with a bearer token: the newest public
    games of that status that allow spectators.

    The list is the same for everyone who may see it, and one read of it (a Query of
    at most `LIVE_GAMES_READ` items) took ~145 ms of the embedded endpoint with ~3,000
    games written, so one read serves every request of a status for
    `LIVE_GAMES_CACHE_SECONDS`, and requests meanwhile wait for the read in flight.
    Each client address and each user (the token's, which is checked by signature
    only: no read) has a budget of `read_rate_per_min` requests a minute of its own
    (429 with Retry-After past it)."""

    def __init__(self, settings: Settings, *, clock: Clock = time.monotonic) -> None:
        self._settings = settings
        per_minute = settings.read_rate_per_min
        self._by_address = KeyedRateLimiter.per_minute(per_minute, clock=clock) if per_minute > 0 else None
        self._by_user = KeyedRateLimiter.per_minute(per_minute, clock=clock) if per_minute > 0 else None
        self._lists: SharedReads[list[LiveGame]] = SharedReads(
            LIVE_GAMES_CACHE_SECONDS, max_keys=len(LISTED_STATUSES), clock=clock
        )

    async def list_games(self, request: web.Request) -> web.Response:
        spend_budget(self._by_address, client_address(request, self._settings.trust_forwarded_for))
        try:
            claims = request.app[TOKENS_KEY].verify(bearer_token(request))
        except InvalidToken:
            raise ApiError(401, INVALID_TOKEN) from None
        spend_budget(self._by_user, str(claims.user_id))
        status = request.query.get("status", "started")
        if status not in LISTED_STATUSES:
            raise ApiError(400, f"status must be one of {', '.join(LISTED_STATUSES)}")
        db = request.app[DB_KEY]
        games = await self._lists.read(status, lambda: self._read(db, status))
        return json_response(LiveGames(games), headers={"Cache-Control": "no-store"})

    @staticmethod
    async def _read(db: Database, status: GameStatusName) -> list[LiveGame]:
        page = await db.list_games_by_status(status, limit=LIVE_GAMES_READ)
        games = [
            LiveGame(
                game_id=game.game_id,
                game_type=game.game_type,
                game_mode=game.game_mode,
                status=game.status,
                server_id=game.server_id,
                started_at_ms=game.started_at_ms,
            )
            for game in page.items
            if watchable(game)
        ]
        return games[:LIVE_GAMES_SHOWN]


def websocket_url(request: web.Request, settings: Settings, ws_port: int) -> str:
    """The WebSocket URL for a page loaded through `request`.

    `SNAKETRON_PUBLIC_WS_URL` when set (behind a proxy or a load balancer the server
    cannot know its public name). Otherwise the host the browser used to reach this
    page, on the WebSocket port: a page opened as http://192.0.2.7:3001/ connects to
    ws://192.0.2.7:8080/ws, whatever address the server is bound to.
    """
    if settings.public_ws_url:
        return settings.public_ws_url
    scheme = "wss" if request.secure else "ws"
    try:
        # `request.url` parses the Host header (a port out of range or not a number
        # raises) and URL.build checks the name (spaces, quotes, slashes raise).
        host = request.url.host or settings.bind_address
        return str(URL.build(scheme=scheme, host=host, port=ws_port, path=WS_PATH))
    except ValueError:
        raise bad_host_header(request) from None


def bad_host_header(request: web.Request) -> web.HTTPBadRequest:
    """The answer to a Host header that is not `host[:port]`: the client's mistake, so
    a 400 and one warning line (never a 500 with a traceback: anyone could send it)."""
    log.warning("bad Host header", host=request.host[:MAX_LOGGED_HOST], path=request.path[:MAX_LOGGED_HOST])
    return web.HTTPBadRequest(text=BAD_HOST_HEADER)


def _content_security_policy(ws_url: str, api_url: str) -> str:
    # Scripts, styles and images only from this origin (no CDN, no inline script);
    # connections to this origin, the game server and, if set, the public API URL.
    connect = ["'self'", ws_url]
    if api_url:
        connect.append(api_url)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {' '.join(connect)}; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def add_web_routes(
    app: web.Application,
    settings: Settings,
    *,
    ws_port: Callable[[], int] | None = None,
    clock: Clock = time.monotonic,
) -> None:
    """Serve the browser client on `app` (the HTTP API app): `/`, `/static/...`,
    `/client-config.json` and, when `app` has the API's database and token issuer,
    `/api/games` (without them the page says the server lists no live games).

    `ws_port` returns the WebSocket port actually bound, for servers started on port 0;
    it is called per request, so the routes can be added before the server listens.
    Without it, `settings.ws_port` is used. `clock` runs `/api/games`' budgets and cache.
    """
    port_of_ws: Callable[[], int] = ws_port or (lambda: settings.ws_port)
    index_bytes = INDEX_HTML.read_bytes()

    async def index(request: web.Request) -> web.Response:
        ws_url = websocket_url(request, settings, port_of_ws())
        return web.Response(
            body=index_bytes,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": CACHE_CONTROL,
                "Content-Security-Policy": _content_security_policy(ws_url, settings.public_api_url),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )

    async def client_config(request: web.Request) -> web.Response:
        config = ClientConfig(ws_url=websocket_url(request, settings, port_of_ws()), api_url=settings.public_api_url)
        return web.Response(
            body=msgspec.json.encode(config),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    @web.middleware
    async def static_headers(request: web.Request, handler):
        response = await handler(request)
        if request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", CACHE_CONTROL)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    async def replay_link(request: web.Request) -> web.Response:
        # The page loads its assets relative to `/`: a shared `/replay/<id>` opens it there.
        raise web.HTTPFound(f"/?replay={int(request.match_info['game_id'])}")

    app.router.add_get("/", index, name="web_index")
    app.router.add_get(r"/replay/{game_id:\d{1,10}}", replay_link, name="web_replay_link")
    app.router.add_get("/client-config.json", client_config, name="web_client_config")
    if DB_KEY in app and TOKENS_KEY in app:
        app.router.add_get("/api/games", LiveGamesEndpoint(settings, clock=clock).list_games, name="web_live_games")
    app.router.add_static("/static/", STATIC_ROOT, name="web_static", follow_symlinks=False)
    app.middlewares.append(static_headers)
