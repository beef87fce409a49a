"""`GET /api/servers?region=<region>`: the live servers of a region, their addresses and load.

This server's own region is answered from the registry's cached view (no request
to DynamoDB); another region costs one GSI2 query.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from snaketron.cluster.registry import ClusterRegistry
from snaketron.db.models import ServerRecord
from snaketron.http_api import ApiError, json_response

MAX_REGION_LENGTH = 64


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


def add_server_routes(app: web.Application, registry: ClusterRegistry) -> None:
    async def list_servers(request: web.Request) -> web.Response:
        region = request.query.get("region", registry.region).strip() or registry.region
        if len(region) > MAX_REGION_LENGTH:
            raise ApiError(400, "region is too long")
        if region == registry.region:
            servers = registry.live_servers()
        else:
            servers = await registry.live_servers_of(region)
        servers = sorted((s for s in servers if s.status != "offline"), key=lambda s: s.server_id)
        return json_response(ServerList(region=region, servers=[_view(s) for s in servers]))

    app.router.add_get("/api/servers", list_servers)
