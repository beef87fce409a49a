"""The server registry: this server's `SERVER#<id>` item and the cached view of the others.

Every heartbeat interval the registry writes this server's heartbeat (with its game
and player counts), then reads its region's servers back with one GSI2 query. That
one query serves two purposes:

- the *live view*: servers whose heartbeat is fresher than three intervals. Placement
  and relaying read this cached view, so no request pays a registry query, except one
  that names a server the view lacks: `find` reads that server's item once;
- the *dead list*: servers that stopped heartbeating without going `offline`. Their
  unfinished games are swept (see `sweep.py`) so no client waits forever.

The query asks for every heartbeat younger than a server item's lifetime (its ttl),
so a server that died an hour ago is no longer looked at; reads treat items past
their ttl as absent, and DynamoDB's TTL removes them later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import msgspec

from snaketron.cluster.sweep import abandon_games_of
from snaketron.config import Settings
from snaketron.db.errors import DatabaseError, NotFound
from snaketron.db.interface import Database
from snaketron.db.models import ServerRecord, ServerStatus
from snaketron.logs import get_logger
from snaketron.ratelimit import RecentMisses

log = get_logger(__name__)

# A server is live while its heartbeat is fresher than this many intervals.
LIVENESS_INTERVALS = 3
# How far back the registry query reaches: a server item's lifetime after its last
# heartbeat (db.items.SERVER_TTL_SECONDS). Older servers are gone for good.
REGISTRY_HORIZON_MS = 3_600_000
# A server `find` read and found not live is not read again for this long: a code or
# game of a server that is gone costs no further read when it is asked for again.
NOT_LIVE_TTL_S = 10.0

Load = Callable[[], tuple[int, int]]  # (running games, players) of this server


class ClusterRegistry:
    """This server's registration and heartbeats, and the cached live view of its region."""

    def __init__(self, settings: Settings, db: Database, load: Load, *, clock_ms: Callable[[], int]) -> None:
        self.settings = settings
        self.db = db
        self.region = settings.region
        self._load = load
        self._clock_ms = clock_ms
        self.record: ServerRecord | None = None
        self._live: dict[int, ServerRecord] = {}
        self._swept: set[int] = set()  # dead servers this process has already swept
        self._on_refresh: list[Callable[[], None]] = []
        self._loop: asyncio.Task[None] | None = None
        self._finding: dict[int, asyncio.Task[ServerRecord | None]] = {}  # `find`'s reads in flight
        self._not_live = RecentMisses(NOT_LIVE_TTL_S)  # servers `find` read and found not live
        self.refreshed = asyncio.Event()  # set after each refresh (tests and start-up wait on it)

    @property
    def server_id(self) -> int:
        return self.record.server_id if self.record is not None else 0

    @property
    def freshness_ms(self) -> int:
        return round(LIVENESS_INTERVALS * self.settings.heartbeat_seconds * 1000)

    # --- this server --------------------------------------------------------------------
    async def register(self, record: ServerRecord) -> None:
        """Write this server's item (status `active`) and start heartbeating."""
        now = self._clock_ms()
        games, players = self._load()
        self.record = msgspec.structs.replace(
            record,
            status="active",
            current_game_count=games,
            current_player_count=players,
            last_heartbeat_ms=now,
            created_at_ms=record.created_at_ms or now,
        )
        await self.db.register_server(self.record)
        self._live[self.record.server_id] = self.record
        await self._refresh_safely()
        self._loop = asyncio.get_running_loop().create_task(self._heartbeats())

    async def set_status(self, status: ServerStatus) -> None:
        """`draining` and `offline`: the balancers of the cluster see it at their next refresh."""
        if self.record is None:
            return
        self.record.status = status
        try:
            await self.db.set_server_status(self.record.server_id, status)
        except DatabaseError as exc:
            log.warning("server status not saved", status=status, error=str(exc))

    async def stop(self) -> None:
        """Stop heartbeating (the server is about to go offline)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        for finding in list(self._finding.values()):
            finding.cancel()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            await self.beat()

    async def beat(self) -> None:
        """One heartbeat, then a refresh of the view (and a sweep of dead servers)."""
        assert self.record is not None
        # The time first, then the load: a game placed here before `now` is in the count,
        # which is what other servers' placement assumes (see placement.py).
        now = self._clock_ms()
        games, players = self._load()
        try:
            await self.db.heartbeat_server(
                self.record.server_id, self.region, game_count=games, player_count=players, now_ms=now
            )
            self.record.current_game_count = games
            self.record.current_player_count = players
            self.record.last_heartbeat_ms = now
        except NotFound:
            # The item is gone while we run: the database lost it (the embedded endpoint
            # restarted empty). Write it again, or the cluster would think us dead.
            await self._register_again(now, games, players)
        except DatabaseError as exc:
            log.warning("heartbeat failed", error=str(exc))
        await self._refresh_safely()

    async def _register_again(self, now: int, games: int, players: int) -> None:
        assert self.record is not None
        self.record.current_game_count = games
        self.record.current_player_count = players
        self.record.last_heartbeat_ms = now
        try:
            await self.db.register_server(self.record)
            log.warning("server item was gone; registered again", server_id=self.record.server_id)
        except DatabaseError as exc:
            log.warning("heartbeat failed", error=str(exc))

    # --- the view -------------------------------------------------------------------------
    def on_refresh(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every refresh (relays re-check hosts they lost)."""
        self._on_refresh.append(callback)

    def live_servers(self) -> list[ServerRecord]:
        """Live servers of the region (any status), as of the last refresh; this one included."""
        return list(self._live.values())

    async def live_servers_of(self, region: str) -> list[ServerRecord]:
        """Live servers of another region (one GSI2 query; not cached)."""
        return await self.db.list_live_servers(region, now_ms=self._clock_ms(), freshness_ms=self.freshness_ms)

    def get(self, server_id: int) -> ServerRecord | None:
        """A live server of the region, or None when it is unknown or presumed dead."""
        return self._live.get(server_id)

    async def find(self, server_id: int) -> ServerRecord | None:
        """`get` for a server that an item names (the host of a lobby or a game), reading
        the server's own item when the view lacks it.

        The view is as old as the last heartbeat: a server that registered since, a host
        just started, is missing from it for up to an interval. Such a server registered
        before it wrote any item naming it, so a read of its item (strongly consistent;
        the view's GSI2 query is not) begun after the naming item was read finds it. A
        verdict of "not live" hardly ever changes: a server whose heartbeat went stale is
        swept `offline` by the region, and a restarted one has a new id. Hence one read
        per server at a time, shared by the requests that ask meanwhile, and none for
        `NOT_LIVE_TTL_S` after "not live"."""
        found = self._live.get(server_id)
        if found is not None or str(server_id) in self._not_live:
            return found
        finding = self._finding.get(server_id)
        if finding is None:
            finding = asyncio.get_running_loop().create_task(self._read_server(server_id))
            self._finding[server_id] = finding
            finding.add_done_callback(lambda _: self._finding.pop(server_id, None))
        return await asyncio.shield(finding)

    async def _read_server(self, server_id: int) -> ServerRecord | None:
        try:
            record = await self.db.get_server(server_id)
        except NotFound:
            record = None
        except DatabaseError as exc:
            log.warning("server lookup failed", server_id=server_id, error=str(exc))
            return None
        now = self._clock_ms()
        if (
            record is None
            or record.region != self.region
            or record.status == "offline"
            or record.last_heartbeat_ms <= now - self.freshness_ms
        ):
            self._not_live.add(str(server_id))
            return None
        log.info("server found before the registry's next refresh", server_id=server_id)
        self._live.setdefault(server_id, record)  # the next refresh replaces the view as usual
        return self._live[server_id]

    async def _refresh_safely(self) -> None:
        try:
            await self.refresh()
        except DatabaseError as exc:
            log.warning("server registry not refreshed", error=str(exc))

    async def refresh(self) -> None:
        now = self._clock_ms()
        records = await self.db.list_live_servers(self.region, now_ms=now, freshness_ms=REGISTRY_HORIZON_MS)
        live: dict[int, ServerRecord] = {}
        dead: list[ServerRecord] = []
        for record in records:
            if record.last_heartbeat_ms > now - self.freshness_ms:
                live[record.server_id] = record
            elif record.status != "offline" and record.server_id != self.server_id:
                dead.append(record)
        if self.record is not None:
            # Our own entry: what we know now beats what we wrote a moment ago.
            live[self.record.server_id] = self.record
        self._live = live
        for record in dead:
            await self._sweep(record, now)
        for callback in self._on_refresh:
            try:
                callback()
            except Exception:
                log.exception("registry refresh callback failed")
        self.refreshed.set()

    async def _sweep(self, dead: ServerRecord, now_ms: int) -> None:
        """Abandon a dead server's games (idempotent: any server may do it, twice is harmless)
        and mark it offline so the cluster stops looking at it."""
        if dead.server_id in self._swept:
            return
        try:
            abandoned = await abandon_games_of(self.db, dead.server_id, now_ms=now_ms)
        except DatabaseError as exc:
            log.warning("dead server sweep failed; retrying next heartbeat", server_id=dead.server_id, error=str(exc))
            return
        self._swept.add(dead.server_id)
        log.warning(
            "server declared dead; its games are abandoned",
            server_id=dead.server_id,
            last_heartbeat_ms=dead.last_heartbeat_ms,
            games=[g.game_id for g in abandoned],
        )
