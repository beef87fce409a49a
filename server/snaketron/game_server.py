"""The server process: start everything, register, heartbeat, serve, drain.

`GameServer` composes the parts (account API, WebSocket server, rooms,
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
import errno
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator

from aiohttp import web

from snaketron import protocol
from snaketron.auth import PasswordHasher, TokenIssuer
from snaketron.cluster import RELAY_PATH, ClusterNode
from snaketron.config import ConfigError, Settings
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.errors import DatabaseError
from snaketron.db.interface import Database
from snaketron.db.models import ServerRecord, ServerStatus
from snaketron.games import Rooms, wall_clock_ms
from snaketron.gc_policy import CollectorPolicy
from snaketron.http_api import create_api_app, start_api
from snaketron.leaderboard.listener import LeaderboardUpdater
from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.lobbies import LobbyService
from snaketron.logs import configure_logging, get_logger
from snaketron.matchmaking import MatchmakingService
from snaketron.metrics import ServerMetrics
from snaketron.native import compiled_modules
from snaketron.persistence import GameRecorder
from snaketron.ratelimit import Clock
from snaketron.replays.store import ReplayStore
from snaketron.rooms.ports import RoomListener
from snaketron.tasks import BackgroundTasks
from snaketron.ws_server import WsServer

log = get_logger(__name__)

# Each closing step of a stop may take this long even when the shutdown deadline has passed.
CLOSE_STEP_S = 0.2


def game_recorder(settings: Settings, db: Database, boards: LeaderboardRecorder | None) -> GameRecorder:
    """The rooms' persistence. On the DynamoDB data layer a finished game's replay rides
    with its rows and a rated game's boards with its ratings (fewer requests per game)."""
    if not isinstance(db, DynamoDatabase) or boards is None:
        return GameRecorder(db, writes_in_flight=settings.result_writes_in_flight)
    return GameRecorder(
        db,
        replays=ReplayStore(db, ttl_seconds=settings.replay_ttl_seconds),
        boards=boards,
        rating_actions=db,
        writes_in_flight=settings.result_writes_in_flight,
    )


def history_listeners(
    boards: LeaderboardRecorder | None, tasks: BackgroundTasks, recorder: GameRecorder
) -> list[RoomListener]:
    """What keeps the history of a finished game whose result write did not already:
    the leaderboards of unrated games (and of rated ones whose ratings did not land).
    They live in the DynamoDB data layer's tables (a server on another Database keeps
    none); replays are saved by the recorder with the game's rows."""
    if boards is None:
        return []
    return [LeaderboardUpdater(boards, tasks, recorded_with_result=recorder.boards_recorded)]


class GameServer:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock_ms: Callable[[], int] = wall_clock_ms,
        clock: Clock = time.monotonic,
    ) -> None:
        """`clock_ms` is the wall clock of games, seasons and heartbeats; `clock` the
        monotonic seconds of the HTTP API's rate limits and short caches (tests move both)."""
        self.settings = settings
        self.db = db
        self.clock_ms = clock_ms
        self.server_id = 0
        self.status: ServerStatus = "offline"
        self.tasks = BackgroundTasks()
        self.tokens = TokenIssuer.from_settings(settings)
        self.hasher = PasswordHasher.from_settings(settings)
        # One recorder for the result writes and the listener: one set of board copies.
        boards = LeaderboardRecorder.for_database(db) if isinstance(db, DynamoDatabase) else None
        self.recorder = game_recorder(settings, db, boards)
        self.rooms = Rooms(
            self.recorder,
            self.tasks,
            region=settings.region,
            season_months=settings.season_months,
            clock_ms=clock_ms,
            listeners=history_listeners(boards, self.tasks, self.recorder),
            max_games=settings.max_games,
        )
        self.collector = CollectorPolicy(settings, games_running=lambda: self.rooms.running_game_count() > 0)
        self.lobbies = LobbyService(self.rooms, db, settings, self.tasks, clock_ms=clock_ms)
        # Registry, placement and relaying to the other servers of the region.
        self.cluster = ClusterNode(
            settings,
            db,
            self.rooms,
            self.lobbies,
            self.tasks,
            accepting_games=lambda: self.ws.accepting_games,
            clock_ms=clock_ms,
        )
        # Matched games go to the least loaded server of the region: the cluster wraps
        # matchmaking's own placement, once, as it is built.
        self.matchmaking = MatchmakingService(
            settings,
            db,
            self.rooms,
            self.tasks,
            clock_ms=clock_ms,
            placement=self.cluster.match_placement,
            known_rating=self.recorder.known_rating,
        )
        self.ws = WsServer(
            settings,
            db,
            self.tokens,
            self.rooms,
            self.lobbies,
            self.tasks,
            matchmaking=self.matchmaking,
            cluster=self.cluster.router,
            clock_ms=clock_ms,
        )
        self.api_app = create_api_app(settings, db, self.tokens, self.hasher, clock=clock)
        self.metrics = ServerMetrics.install(self, self.api_app) if settings.metrics_enabled else None
        # GET /api/servers and POST /internal/matches (before any catch-all route).
        self.cluster.add_routes(self.api_app, clock=clock)
        _add_optional_routes(self.api_app, settings, ws_port=lambda: self.ws_port, clock=clock)
        self.ws_port = 0
        self.api_port = 0
        self._api_runner: web.AppRunner | None = None
        self._stopped = False

    # --- addresses -------------------------------------------------------------------------
    @property
    def ws_url(self) -> str:
        return self.settings.public_ws_url or f"ws://{_url_host(self.settings.bind_address)}:{self.ws_port}/ws"

    @property
    def api_url(self) -> str:
        return self.settings.public_api_url or f"http://{_url_host(self.settings.bind_address)}:{self.api_port}"

    @property
    def internal_url(self) -> str:
        """Where the other servers of the cluster relay their clients' game traffic."""
        return (
            self.settings.internal_ws_url or f"ws://{_url_host(self.settings.bind_address)}:{self.ws_port}{RELAY_PATH}"
        )

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.server_id = await self.db.next_id("server")
        self.rooms.server_id = self.server_id
        bind_address = self.settings.bind_address
        with _listen_error("WebSocket", bind_address, self.settings.ws_port, "SNAKETRON_WS_PORT", "--ws-port"):
            self.ws_port = await self.ws.start(bind_address, self.settings.ws_port)
        try:
            with _listen_error("HTTP API", bind_address, self.settings.api_port, "SNAKETRON_API_PORT", "--api-port"):
                self._api_runner, self.api_port = await start_api(self.api_app, bind_address, self.settings.api_port)
        except ConfigError:
            await self.ws.close()
            raise
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
        log.info(
            "server started",
            server_id=self.server_id,
            ws=self.ws_url,
            api=self.api_url,
            compiled=compiled_modules(),  # `snaketron compile`: none unless run from a build
        )

    async def _set_status(self, status: ServerStatus) -> None:
        self.status = status
        await self.cluster.set_status(status)

    async def drain(self, grace_s: float | None = None) -> None:
        """Stop taking games, let running ones finish (up to the grace period), tell the
        clients, flush every accepted write, and go offline."""
        grace_s = self.settings.drain_grace_seconds if grace_s is None else grace_s
        self.ws.accepting_games = False
        loop = asyncio.get_running_loop()
        grace_ends = loop.time() + grace_s
        # Handing the matcher lease to a standby and saying `draining` run beside the grace
        # period and end with it: with the database down they must not hold the drain up
        # (a lease not handed over expires by itself; placement skips a stale server).
        announce = loop.create_task(self._announce_draining())
        log.info("draining", running_games=self.rooms.running_game_count(), grace_s=grace_s)
        self.ws.broadcast(
            protocol.ServerShutdown(reason="server is shutting down", grace_period_seconds=round(grace_s))
        )
        # Games hosted here, and games of this server's clients hosted elsewhere (relayed).
        local_done, _ = await asyncio.gather(
            self.rooms.wait_all_finished(grace_s), self.cluster.wait_relayed_games(grace_s)
        )
        async with self._bounded("hand the matcher lease over, mark the server draining", deadline=grace_ends):
            await announce
        if not local_done:
            abandoned = self.rooms.abandon_all()
            log.warning("grace period over; games abandoned", count=len(abandoned))
        self.ws.broadcast(protocol.Shutdown())
        await self.stop()

    async def _announce_draining(self) -> None:
        await self.matchmaking.stop_matching()
        await self._set_status("draining")

    async def stop(self) -> None:
        """Close listeners and connections, wait for background work, flush, go offline.
        Safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        self.ws.accepting_games = False
        # Closing, background work, flushing and going offline share one deadline, so a
        # shutdown always ends: with the database hung, handlers, heartbeats and lease
        # releases each wait out the client's deadline, one after another. What the batch
        # writer still holds at the end is dropped (and counted) by whoever closes it (`serve`).
        flush_s = self.settings.shutdown_flush_seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + flush_s
        async with self._bounded("stop relays and heartbeats", deadline=deadline, at_least_s=CLOSE_STEP_S):
            await self.cluster.stop()
        async with self._bounded("stop matchmaking", deadline=deadline, at_least_s=CLOSE_STEP_S):
            await self.matchmaking.stop()
        self.ws.stop_listening()
        # Close every way a game can still be made (WebSocket handlers have all
        # returned once ws.close() does; the API carries cluster match hand-overs)...
        async with self._bounded("close the WebSocket connections", deadline=deadline, at_least_s=CLOSE_STEP_S):
            await self.ws.close()
        runner, self._api_runner = self._api_runner, None
        if runner is not None:
            async with self._bounded("close the HTTP API", deadline=deadline, at_least_s=CLOSE_STEP_S):
                await runner.cleanup()
        # ...then abandon what still runs (drain has already waited for it), so every
        # final record reaches the batch writer before the flush below.
        abandoned = self.rooms.abandon_all()
        if abandoned:
            log.warning("games abandoned at stop", count=len(abandoned))
        # A result's task hands its GameResult to the listeners as it ends, and they may
        # spawn work of their own (the leaderboard's write): wait for that too, or it
        # would run on a closed database.
        await self.tasks.wait(timeout_s=max(0.0, deadline - loop.time()))
        while len(self.tasks) and loop.time() < deadline:
            await self.tasks.wait(timeout_s=max(0.0, deadline - loop.time()))
        try:
            async with asyncio.timeout_at(deadline):
                await self.db.flush()
        except TimeoutError:
            log.warning("shutdown: writes not flushed within the deadline", flush_s=flush_s)
        except DatabaseError as exc:
            log.error("flush on shutdown failed", error=str(exc))
        if self.status != "offline":
            async with self._bounded("mark the server offline", at_least_s=1.0, deadline=deadline):
                await self._set_status("offline")
        self.hasher.close()
        await self.collector.stop()
        log.info("server stopped", server_id=self.server_id, host_stats=dataclasses.asdict(self.rooms.stats))

    @contextlib.asynccontextmanager
    async def _bounded(
        self, what: str, *, at_least_s: float = 0.0, deadline: float | None = None
    ) -> AsyncIterator[None]:
        """A shutdown step that may take until `deadline` (at least `at_least_s`; default:
        SNAKETRON_SHUTDOWN_FLUSH_SECONDS from now), then is given up with a warning."""
        now = asyncio.get_running_loop().time()
        until = max(now + self.settings.shutdown_flush_seconds if deadline is None else deadline, now + at_least_s)
        try:
            async with asyncio.timeout_at(until):
                yield
        except TimeoutError:
            log.warning("shutdown: gave up", step=what)


def _add_optional_routes(app: web.Application, settings: Settings, *, ws_port: Callable[[], int], clock: Clock) -> None:
    """The browser client, when the package ships it (it needs the bound WebSocket port)."""
    try:
        from snaketron.web_client import add_web_routes
    except ImportError:
        return
    add_web_routes(app, settings, ws_port=ws_port, clock=clock)


@contextlib.contextmanager
def _listen_error(what: str, bind_address: str, port: int, setting: str, option: str) -> Iterator[None]:
    """A port that cannot be bound is the operator's to change: ConfigError naming the setting."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"the {what} port {port} on {bind_address} is in use: set {setting} (or {option}) to a free port, "
                "or 0 for any free port"
            ) from exc
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
            raise ConfigError(
                f"cannot listen on {bind_address}:{port} for the {what} ({exc.strerror}): "
                f"check SNAKETRON_HOST (or --host) and {setting} (or {option})"
            ) from exc
        raise


def _url_host(bind_address: str) -> str:
    """The host part of a URL that reaches this process bound to `bind_address`."""
    if bind_address in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{bind_address}]" if ":" in bind_address else bind_address


# --- `snaketron serve` -------------------------------------------------------------------------


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name, value in (
            ("bind_address", args.host),
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
        # The flush had its deadline in drain: what is left now is dropped, not waited for.
        dropped = await db.close_writer(0.0)
    if dropped:
        log.error("exiting with status 1: accepted writes were dropped", count=len(dropped))
        return 1
    return 0
