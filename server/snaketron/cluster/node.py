"""This process as one member of the cluster: registry, placement and relaying, composed.

The game server builds one `ClusterNode`, hands `router` to the WebSocket server
and `match_placement` to matchmaking (both at their construction), adds the
cluster's routes to the API app, and drives the
registration's lifecycle: `start` (register `active` and heartbeat), `set_status`
(`draining`, `offline`), `stop` (end relays, stop heartbeating).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from snaketron.cluster.placement import Placement
from snaketron.cluster.registry import ClusterRegistry
from snaketron.cluster.routing import GameRouter, LobbiesHere, RoomsHere
from snaketron.cluster.servers_api import add_server_routes
from snaketron.config import Settings
from snaketron.db.interface import Database
from snaketron.db.models import ServerRecord, ServerStatus
from snaketron.ratelimit import Clock
from snaketron.tasks import BackgroundTasks

if TYPE_CHECKING:
    from snaketron.cluster.match_hosting import ClusterMatchPlacement
    from snaketron.matchmaking.placement import Deliver, IsWaiting, MatchPlacement


class ClusterRooms(RoomsHere, Protocol):
    """The rooms of this process (`games.Rooms`): routing asks them, load counts them."""

    def running_game_count(self) -> int: ...
    def player_count(self) -> int: ...


class ClusterNode:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        rooms: ClusterRooms,
        lobbies: LobbiesHere,
        tasks: BackgroundTasks,
        *,
        accepting_games: Callable[[], bool],
        clock_ms: Callable[[], int],
    ) -> None:
        def load() -> tuple[int, int]:
            return rooms.running_game_count(), rooms.player_count()

        self.registry = ClusterRegistry(settings, db, load, clock_ms=clock_ms)
        self.placement = Placement(self.registry, load, clock_ms=clock_ms)
        self._settings = settings
        self._rooms = rooms
        self._accepting_games = accepting_games
        self._cluster_placement: ClusterMatchPlacement | None = None
        self._local_placement: MatchPlacement | None = None  # hosts matches other servers send
        self.router = GameRouter(
            settings,
            db,
            self.registry,
            self.placement,
            rooms,
            lobbies,
            tasks,
            accepting_games=accepting_games,
            clock_ms=clock_ms,
        )

    def match_placement(self, local: MatchPlacement, deliver: Deliver, is_waiting: IsWaiting) -> MatchPlacement:
        """Matchmaking's placement on a cluster (its `PlacementFactory`): the least loaded
        server of the region hosts each match; `local` hosts here, also for the other
        servers' matchers (POST /internal/matches, added by `add_routes`)."""
        from snaketron.cluster.match_hosting import ClusterMatchPlacement

        self._local_placement = local
        self._cluster_placement = ClusterMatchPlacement(
            local,
            self.placement,
            self.registry,
            secret=self._settings.effective_cluster_secret(),
            deliver=deliver,
            is_waiting=is_waiting,
            # A match goes elsewhere while this server is full (SNAKETRON_MAX_GAMES); with
            # no server of the region below its own, it is hosted here all the same.
            accepting_games=lambda: self._accepting_games() and self._rooms.has_room(),
            timeout_s=self._settings.relay_answer_seconds,
        )
        return self._cluster_placement

    def add_routes(self, app: web.Application, *, clock: Clock = time.monotonic) -> None:
        """GET /api/servers (its budget and cache run on `clock`); with matchmaking (a
        placement was made), POST /internal/matches."""
        from snaketron.cluster.match_hosting import add_match_hosting_route

        add_server_routes(app, self.registry, self._settings, clock=clock)
        if self._local_placement is not None:
            secret = self._settings.effective_cluster_secret()
            add_match_hosting_route(app, secret, self._local_placement, accepting_games=self._accepting_games)

    async def start(self, record: ServerRecord) -> None:
        await self.registry.register(record)

    async def set_status(self, status: ServerStatus) -> None:
        await self.registry.set_status(status)

    async def wait_relayed_games(self, grace_s: float) -> bool:
        """Draining: wait (up to `grace_s`) for this server's clients' games on other servers."""
        return await self.router.wait_relayed_games(grace_s)

    async def stop(self) -> None:
        self.router.close_all()
        await self.registry.stop()
        if self._cluster_placement is not None:
            await self._cluster_placement.close()
