"""The server process: start everything, register, heartbeat, serve, drain.

`GameServer` composes the parts (account API, WebSocket server, game host,
lobbies) around one open database. Its lifecycle is the declared state machine
of the server item in DynamoDB: `active` while serving, `draining` after
SIGTERM/SIGINT (no new games; running games may finish within the grace
period), `offline` once every accepted write is flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from snaketron import protocol
from snaketron.auth import PasswordHasher, TokenIssuer
from snaketron.cluster import RELAY_PATH, ClusterNode
from snaketron.config import Settings
from snaketron.db.errors import DatabaseError
from snaketron.db.interface import Database
from snaketron.db.models import ServerRecord, ServerStatus
from snaketron.games import GameHost, wall_clock_ms
from snaketron.gc_policy import CollectorPolicy
from snaketron.http_api import create_api_app, start_api
from snaketron.lobbies import LobbyService
from snaketron.logs import configure_logging, get_logger
from snaketron.matchmaking import MatchmakingService
from snaketron.metrics import ServerMetrics
from snaketron.persistence import GameRecorder
from snaketron.tasks import BackgroundTasks
from snaketron.ws_server import WsServer

log = get_logger(__name__)


class GameServer:
    def __init__(self, settings: Settings, db: Database, *, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.settings = settings
        self.db = db
        self.clock_ms = clock_ms
        self.server_id = 0
        self.status: ServerStatus = "offline"
        self.tasks = BackgroundTasks()
        self.tokens = TokenIssuer.from_settings(settings)
        self.hasher = PasswordHasher.from_settings(settings)
        self.recorder = GameRecorder(db, clock_ms=clock_ms)
        self.host = GameHost(self.recorder, clock_ms=clock_ms)
        self.collector = CollectorPolicy(settings, games_running=lambda: self.host.running_game_count() > 0)
        self.lobbies = LobbyService(self.host, db, settings, self.tasks, clock_ms=clock_ms)
        self.ws = WsServer(settings, db, self.tokens, self.host, self.lobbies, self.tasks, clock_ms=clock_ms)
        self.matchmaking = MatchmakingService(settings, db, self.host, self.tasks, clock_ms=clock_ms)
        self.ws.matchmaking = self.matchmaking
        # Registry, placement and relaying to the other servers of the region.
        self.cluster = ClusterNode(
            settings,
            db,
            self.host,
            self.lobbies,
            self.tasks,
            accepting_games=lambda: self.ws.accepting_games,
            clock_ms=clock_ms,
        )
        self.ws.cluster = self.cluster.router
        self.api_app = create_api_app(settings, db, self.tokens, self.hasher)
        self.metrics = ServerMetrics.install(self, self.api_app) if settings.metrics_enabled else None
        # GET /api/servers (before any catch-all route); matched games to the least loaded server.
        self.cluster.add_routes(self.api_app, self.matchmaking)
        _add_optional_routes(self.api_app, settings, ws_port=lambda: self.ws_port)
        self.ws_port = 0
        self.api_port = 0
        self._api_runner: web.AppRunner | None = None
        self._stopped = False

    # --- addresses -------------------------------------------------------------------------
    @property
    def ws_url(self) -> str:
        return self.settings.public_ws_url or f"ws://{_url_host(self.settings.host)}:{self.ws_port}/ws"

    @property
    def api_url(self) -> str:
        return self.settings.public_api_url or f"http://{_url_host(self.settings.host)}:{self.api_port}"

    @property
    def internal_url(self) -> str:
        """Where the other servers of the cluster relay their clients' game traffic."""
        return self.settings.internal_ws_url or f"ws://{_url_host(self.settings.host)}:{self.ws_port}{RELAY_PATH}"

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.server_id = await self.db.next_id("server")
        self.host.server_id = self.recorder.server_id = self.server_id
        self.ws_port = await self.ws.start(self.settings.host, self.settings.ws_port)
        self._api_runner, self.api_port = await start_api(self.api_app, self.settings.host, self.settings.api_port)
        # Registers SERVER#id as `active`, then heartbeats every heartbeat_seconds.
        await self.cluster.start(
            ServerRecord(
                server_id=self.server_id,
                region=self.settings.region,
                ws_url=self.ws_url,
                api_url=self.api_url,
                internal_url=self.internal_url,
                max_game_capacity=self.settings.max_games,
            )
        )
        self.status = "active"
        self.matchmaking.start(self.server_id)  # after registering: tickets name a live server
        self.collector.start()
        log.info("server started", server_id=self.server_id, ws=self.ws_url, api=self.api_url)

    async def _set_status(self, status: ServerStatus) -> None:
        self.status = status
        await self.cluster.set_status(status)

    async def drain(self, grace_s: float | None = None) -> None:
        """Stop taking games, let running ones finish (up to the grace period), tell the
        clients, flush every accepted write, and go offline."""
        grace_s = self.settings.drain_grace_seconds if grace_s is None else grace_s
        self.ws.accepting_games = False
        await self.matchmaking.stop_matching()  # hand the matcher lease to a standby now
        await self._set_status("draining")
        log.info("draining", running_games=self.host.running_game_count(), grace_s=grace_s)
        self.ws.broadcast(
            protocol.ServerShutdown(reason="server is shutting down", grace_period_seconds=round(grace_s))
        )
        # Games hosted here, and games of this server's clients hosted elsewhere (relayed).
        local_done, _ = await asyncio.gather(
            self.host.wait_all_finished(grace_s), self.cluster.wait_relayed_games(grace_s)
        )
        if not local_done:
            abandoned = self.host.abandon_all()
            log.warning("grace period over; games abandoned", count=len(abandoned))
        self.ws.broadcast(protocol.Shutdown())
        await self.stop()

    async def stop(self) -> None:
        """Close listeners and connections, wait for background work, flush, go offline.
        Safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        self.ws.accepting_games = False
        await self.cluster.stop()  # ends relays and heartbeats
        await self.matchmaking.stop()
        self.ws.stop_listening()
        # Close every way a game can still be made (WebSocket handlers have all
        # returned once ws.close() does; the API carries cluster match hand-overs)...
        await self.ws.close()
        if self._api_runner is not None:
            await self._api_runner.cleanup()
            self._api_runner = None
        # ...then abandon what still runs (drain has already waited for it), so every
        # final record reaches the batch writer before the flush below.
        abandoned = self.host.abandon_all()
        if abandoned:
            log.warning("games abandoned at stop", count=len(abandoned))
        await self.tasks.wait(timeout_s=self.settings.db_deadline_ms / 1000)
        try:
            await self.db.flush()
        except DatabaseError as exc:
            log.error("flush on shutdown failed", error=str(exc))
        if self.status != "offline":
            await self._set_status("offline")
        self.hasher.close()
        await self.collector.stop()
        log.info("server stopped", server_id=self.server_id, host_stats=dataclasses.asdict(self.host.stats))


def _add_optional_routes(app: web.Application, settings: Settings, *, ws_port: Callable[[], int]) -> None:
    """The browser client, when the package ships it (it needs the bound WebSocket port)."""
    try:
        from snaketron.web_client import add_web_routes
    except ImportError:
        return
    add_web_routes(app, settings, ws_port=ws_port)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


# --- `snaketron serve` -------------------------------------------------------------------------


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name, value in (
            ("host", args.host),
            ("ws_port", args.ws_port),
            ("api_port", args.api_port),
            ("region", args.region),
        )
        if value is not None
    }
    return Settings.from_env(**overrides)


def serve_command(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        settings.check_startup()  # ConfigError (a ValueError): one line naming the settings
    except ValueError as exc:
        print(f"snaketron: bad setting: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    if settings.use_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            return uvloop.run(serve(settings))
    return asyncio.run(serve(settings))


async def serve(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT, then drain. Returns the process exit code."""
    from snaketron.db import open_database

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_database(settings) as db:
        server = GameServer(settings, db)
        await server.start()
        print(
            f"SnakeTron is up (server {server.server_id}, region {settings.region}, {settings.mode_description()}):\n"
            f"  WebSocket  {server.ws_url}\n"
            f"  HTTP API   {server.api_url}/api\n"
            f"  Browser    {server.api_url}/\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        await stop.wait()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)  # a second Ctrl-C kills at once
        await server.drain()
    return 0
