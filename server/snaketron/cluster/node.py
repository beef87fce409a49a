"""This process as one member of the cluster: registry, placement and relaying, composed.

The game server builds one `ClusterNode`, hands `router` to the WebSocket server
(its `cluster` hooks), adds the server-list route to the API app, and drives the
registration's lifecycle: `start` (register `active` and heartbeat), `set_status`
(`draining`, `offline`), `stop` (end relays, stop heartbeating).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from snaketron.cluster.placement import Placement
from snaketron.cluster.registry import ClusterRegistry
from snaketron.cluster.routing import GameRouter
from snaketron.cluster.servers_api import add_server_routes
from snaketron.config import Settings
from snaketron.db.interface import Database
from snaketron.db.models import ServerRecord, ServerStatus
from snaketron.games import GameHost
from snaketron.lobbies import LobbyService
from snaketron.tasks import BackgroundTasks


class ClusterNode:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        host: GameHost,
        lobbies: LobbyService,
        tasks: BackgroundTasks,
        *,
        accepting_games: Callable[[], bool],
        clock_ms: Callable[[], int],
    ) -> None:
        def load() -> tuple[int, int]:
            return len(host.running_games()), host.player_count()

        self.registry = ClusterRegistry(settings, db, load, clock_ms=clock_ms)
        self.placement = Placement(self.registry, load, clock_ms=clock_ms)
        self.router = GameRouter(
            settings,
            db,
            self.registry,
            self.placement,
            host,
            lobbies,
            tasks,
            accepting_games=accepting_games,
            clock_ms=clock_ms,
        )

    def add_routes(self, app: web.Application) -> None:
        add_server_routes(app, self.registry)

    async def start(self, record: ServerRecord) -> None:
        await self.registry.register(record)

    async def set_status(self, status: ServerStatus) -> None:
        await self.registry.set_status(status)

    async def stop(self) -> None:
        self.router.close_all()
        await self.registry.stop()
