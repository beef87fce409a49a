"""`GET /api/servers?region=<region>`: the live servers of a region, their addresses and load.

This server's own region is answered from the registry's cached view (no request
to DynamoDB). Another region costs one GSI2 query, and its answer is then kept for
`REGION_CACHE_SECONDS` for everyone who asks for that region (a server's item changes
once a heartbeat, every 5 s by default); requests for it while that query runs wait
for its answer. At most `MAX_CACHED_REGIONS` answers are kept.

The route needs no token, and any text is a region, so a flood of region names
would otherwise cost a query each. It is bounded twice: per client address, by its
own budget of `SNAKETRON_READ_RATE_PER_MIN` requests a minute (429 with Retry-After,
like the leaderboard's), and for all clients together, by `REGION_QUERIES_PER_SECOND`
queries of regions not cached (past it, 503 with Retry-After at once: a region that
is cached, and this server's own, still answer).
"""

from __future__ import annotations

import time

import msgspec
from aiohttp import web

from snaketron.cluster.registry import ClusterRegistry
from snaketron.config import Settings
from snaketron.db.models import ServerRecord
from snaketron.http_api import ApiError, client_address, json_response, spend_budget
from snaketron.ratelimit import Clock, KeyedRateLimiter, SharedReads, TokenBucket

MAX_REGION_LENGTH = 64
# How long another region's answer is reused, for every client.
REGION_CACHE_SECONDS = 1.0
# Regions whose answers are kept at once (real clusters have a handful).
MAX_CACHED_REGIONS = 256
# Queries of regions not cached, from all clients together: a second's worth of
# them at once, then this many a second.
REGION_QUERIES_PER_SECOND = 5
BUSY_MESSAGE = "Server busy, try again shortly"


class ServerView(msgspec.Struct):
    """One server as the API shows it (snake_case keys, like every message of the protocol)."""

    id: int
    region: str
    status: str
    ws_url: str
    api_url: str
    games: int
    players: int
    capacity: int
    last_heartbeat_ms: int


class ServerList(msgspec.Struct):
    region: str
    servers: list[ServerView]


def _view(server: ServerRecord) -> ServerView:
    return ServerView(
        id=server.server_id,
        region=server.region,
        status=server.status,
        ws_url=server.ws_url,
        api_url=server.api_url,
        games=server.current_game_count,
        players=server.current_player_count,
        capacity=server.max_game_capacity,
        last_heartbeat_ms=server.last_heartbeat_ms,
    )


class ServerListEndpoint:
    def __init__(self, registry: ClusterRegistry, settings: Settings, *, clock: Clock = time.monotonic) -> None:
        self._registry = registry
        self._settings = settings
        per_minute = settings.read_rate_per_min
        self._limiter = KeyedRateLimiter.per_minute(per_minute, clock=clock) if per_minute > 0 else None
        self._regions: SharedReads[list[ServerRecord]] = SharedReads(
            REGION_CACHE_SECONDS, max_keys=MAX_CACHED_REGIONS, clock=clock
        )
        self._queries = TokenBucket(REGION_QUERIES_PER_SECOND, REGION_QUERIES_PER_SECOND, clock=clock)

    async def list_servers(self, request: web.Request) -> web.Response:
        spend_budget(self._limiter, client_address(request, self._settings.trust_forwarded_for))
        registry = self._registry
        region = request.query.get("region", registry.region).strip() or registry.region
        if len(region) > MAX_REGION_LENGTH:
            raise ApiError(400, "region is too long")
        if region == registry.region:
            servers = registry.live_servers()
        else:
            servers = await self._regions.read(
                region, lambda: registry.live_servers_of(region), before_read=self._take_query
            )
        shown = sorted((s for s in servers if s.status != "offline"), key=lambda s: s.server_id)
        return json_response(ServerList(region=region, servers=[_view(s) for s in shown]))

    def _take_query(self) -> None:
        if not self._queries.try_take():
            raise ApiError(503, BUSY_MESSAGE, retry_after=self._queries.seconds_until())


def add_server_routes(
    app: web.Application, registry: ClusterRegistry, settings: Settings, *, clock: Clock = time.monotonic
) -> None:
    app.router.add_get("/api/servers", ServerListEndpoint(registry, settings, clock=clock).list_servers)
