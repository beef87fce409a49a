"""Which server handles a client's game: here, or the host it is relayed to.

`GameRouter` is what the WebSocket server consults (through three hooks) so that a
client may reach any game of the cluster from any server:

- `route_elsewhere`, after the state check, for messages that find or make a game:
  a new game (solo or lobby) goes to the least loaded live server of the region; a
  lobby code, game id or spectated game that is not hosted here is looked up in
  DynamoDB (the lobby item and game item name their server). When that is another
  live server, the session is relayed there: the message goes to the host as it
  is, and the host's answer comes back as it is.
- `relayed`, before the state check, for every message of a relayed session: the
  host enforces the state machine, so messages go there verbatim; Ping and
  ClockSync are answered here. A message that starts something new once the
  relayed game is over (or was never entered) ends the relay and is handled here,
  like a local finished game lets a client go on without LeaveGame.
- `connection_lost`: the client went away; the relay ends and the host frees its seat.

When a host dies mid-game, its relayed clients must not wait forever: once the
registry no longer sees the host live, they get `StatusUpdated Complete` with no
winner, next in their game's sequence, and go back to local handling. While the
host still looks live the relay tries to rejoin the game (the host's Snapshot puts
the client back where the game is).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Protocol

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from snaketron import protocol
from snaketron.cluster.peers import PeerIdentity, check_relay_handshake, peer_identity
from snaketron.cluster.placement import Placement
from snaketron.cluster.registry import ClusterRegistry
from snaketron.cluster.relay import RelayLink
from snaketron.config import Settings
from snaketron.db.errors import DatabaseError, NotFound
from snaketron.db.interface import Database
from snaketron.db.models import ServerRecord
from snaketron.lobbies import normalise_code
from snaketron.logs import get_logger
from snaketron.ratelimit import RecentMisses
from snaketron.rooms.room import Room
from snaketron.sessions import ClientSession
from snaketron.tasks import BackgroundTasks

log = get_logger(__name__)

# Answered by the client's own server even while relayed: they are about the connection.
CONNECTION_MESSAGES = (protocol.Ping, protocol.ClockSyncRequest)
# Messages that find or make a game (PROTOCOL.md: allowed while Authenticated).
NEW_GAME_MESSAGES = (
    protocol.CreateSoloGame,
    protocol.CreateCustomGame,
    protocol.JoinCustomGame,
    protocol.SpectateGame,
    protocol.QueueForMatch,
    protocol.LeaveQueue,
)
# Close codes from a host that end the client's connection too (a policy violation
# judged by the host, e.g. too many invalid messages).
PASSED_ON_CLOSE_CODES = (1008, 1009)
GOING_AWAY = 1001
# A JoinGame or SpectateGame may name a game whose item is still on its way to
# DynamoDB (written through the batch writer: a match just placed on another server,
# a lobby created a moment ago): look again after these delays before "not found".
LOOKUP_RETRIES_S = (0.1, 0.25, 0.5)
# Codes looked up in DynamoDB and not found are answered from memory this long: a code
# asked for again (a guesser, a client retrying) costs no read. Short, because a lobby
# just made on another server reaches the table within a batch flush.
UNKNOWN_CODE_TTL_S = 2.0


class RoomsHere(Protocol):
    """The rooms of this process (`games.Rooms`), as routing asks them."""

    def get(self, game_id: int) -> Room | None: ...
    def has_room(self) -> bool: ...


class LobbiesHere(Protocol):
    """This process's lobbies (`lobbies.LobbyService`), as routing asks them."""

    def find(self, code: str) -> Room | None: ...


class GameRouter:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        registry: ClusterRegistry,
        placement: Placement,
        rooms: RoomsHere,
        lobbies: LobbiesHere,
        tasks: BackgroundTasks,
        *,
        accepting_games: Callable[[], bool],
        clock_ms: Callable[[], int],
    ) -> None:
        self._settings = settings
        self._secret = settings.effective_cluster_secret()
        self._db = db
        self._registry = registry
        self._placement = placement
        self._rooms = rooms
        self._lobbies = lobbies
        self._tasks = tasks
        self._accepting_games = accepting_games
        self._clock_ms = clock_ms
        self.links: dict[ClientSession, RelayLink] = {}
        # Relay connections other servers opened here: their sessions are handled here,
        # never relayed on (a game is placed once, by the client's own server).
        self._peer_connections: weakref.WeakSet[ServerConnection] = weakref.WeakSet()
        self._relays_changed = asyncio.Event()  # a relayed game ended or a relay went away
        self._unknown_codes = RecentMisses(UNKNOWN_CODE_TTL_S)
        registry.on_refresh(self._recheck_lost_links)

    # --- the host side: admitting relay connections -------------------------------------
    def check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        return check_relay_handshake(self._secret, connection, request)

    def peer_identity(self, connection: ServerConnection) -> PeerIdentity | None:
        identity = peer_identity(self._secret, connection)
        if identity is not None:
            self._peer_connections.add(connection)
        return identity

    # --- hook: a relayed session's messages ------------------------------------------------
    async def relayed(self, session: ClientSession, message: protocol.ClientMessage, frame: str | bytes) -> bool:
        """True when the message was dealt with by the relay; False: handle it here."""
        link = self.links.get(session)
        if link is None or isinstance(message, CONNECTION_MESSAGES):
            return False
        starts_another = isinstance(message, NEW_GAME_MESSAGES) or (
            isinstance(message, protocol.JoinGame) and message.game_id != link.game_id
        )
        if link.lost:
            if starts_another or isinstance(message, protocol.LeaveGame):
                self._end(session)
                return not starts_another
            session.error("host_unreachable", "the server hosting your game is not answering")
            return True
        in_running_game = link.entered and not link.complete
        if starts_another and not in_running_game:
            self._end(session)  # the relayed game is over (or was never entered): go on here
            return False
        if isinstance(message, protocol.LeaveGame) and not link.entered:
            self._end(session)  # nothing to leave at the host; the local state machine answers
            return False
        if not await link.forward(frame):
            # The link just went down; its close handler decides what follows.
            session.error("host_unreachable", "the server hosting your game is not answering")
            return True
        if isinstance(message, protocol.LeaveGame):
            self._end(session)
        return True

    # --- hook: messages that find or make a game ---------------------------------------------
    async def route_elsewhere(
        self, session: ClientSession, message: protocol.ClientMessage, frame: str | bytes
    ) -> bool:
        """True when the game is on another server and the client was relayed there (or
        told why not); False: this server handles the message."""
        if session.room is not None or session in self.links:
            return False
        if session.outbox.connection in self._peer_connections:
            return False  # relayed here by another server: this is the game's host
        target: ServerRecord | None
        if isinstance(message, (protocol.CreateSoloGame, protocol.CreateCustomGame)):
            if not self._accepting_games():
                return False  # draining: the local handler refuses
            # Full here (SNAKETRON_MAX_GAMES): another server with room takes it; with
            # none, the local handler refuses.
            target = self._placement.choose(here_accepts=self._rooms.has_room())
            if target is None:
                return False
            relayed = await self._relay(session, target, frame, None)
            if relayed:
                self._placement.placed(target.server_id)
            return relayed
        if isinstance(message, protocol.JoinCustomGame):
            if self._lobbies.find(message.game_code) is not None:
                return False
            found = await self._lobby_host(message.game_code)
        elif isinstance(message, protocol.SpectateGame):
            if self._rooms.get(message.game_id) is not None:
                return False
            if message.game_code and self._lobbies.find(message.game_code) is not None:
                return False
            found = await self._game_host(message.game_id, retries_s=LOOKUP_RETRIES_S)
            if found is None and message.game_code:
                found = await self._lobby_host(message.game_code)
        elif isinstance(message, protocol.JoinGame):
            if self._rooms.get(message.game_id) is not None:
                return False
            found = await self._game_host(message.game_id, retries_s=LOOKUP_RETRIES_S)
        else:
            return False
        if found is None:
            return False
        target, game_id = found
        return await self._relay(session, target, frame, game_id)

    async def _game_host(self, game_id: int, retries_s: tuple[float, ...] = ()) -> tuple[ServerRecord, int] | None:
        for delay_s in (0.0, *retries_s):
            if delay_s:
                await asyncio.sleep(delay_s)
                if self._rooms.get(game_id) is not None:
                    return None  # it turned up here meanwhile
            try:
                game = (await self._db.get_game(game_id)).game
                break
            except NotFound:
                continue
            except DatabaseError as exc:
                log.warning("game lookup failed", game_id=game_id, error=str(exc))
                return None
        else:
            return None
        if game.status == "abandoned":
            return None
        return await self._live_host(game.server_id, game_id)

    async def _lobby_host(self, code: str) -> tuple[ServerRecord, int] | None:
        code = normalise_code(code)
        if code in self._unknown_codes:
            return None
        try:
            lobby = await self._db.get_lobby(code, now_ms=self._clock_ms())
        except NotFound:
            self._unknown_codes.add(code)
            return None
        except DatabaseError as exc:
            log.warning("lobby lookup failed", error=str(exc))
            return None
        return await self._live_host(lobby.server_id, lobby.game_id)

    async def _live_host(self, server_id: int, game_id: int) -> tuple[ServerRecord, int] | None:
        if server_id == self._registry.server_id:
            return None  # ours, yet not here any more: the local handler says so
        # A host missing from the view may have registered since its last refresh (a server
        # just started): `find` reads the registry again before we answer "unknown".
        server = await self._registry.find(server_id)
        if server is None or server.status == "offline" or not server.internal_url:
            return None
        return server, game_id

    async def _relay(
        self, session: ClientSession, target: ServerRecord, frame: str | bytes, game_id: int | None
    ) -> bool:
        link = self._new_link(session, target, game_id)
        timeout_s = self._settings.relay_answer_seconds
        if not await link.open(timeout_s):
            return False  # unreachable: handle it here as if the game were unknown
        self.links[session] = link
        answer = await link.enter(frame, timeout_s)
        if answer:
            log.debug("client relayed", user_id=session.user_id, host=target.server_id, game_id=link.game_id)
            return True
        self._end(session)
        if answer is None:
            session.deny("the game's server did not answer; try again")
        # False: the host's refusal has reached the client already.
        return True

    def _new_link(self, session: ClientSession, target: ServerRecord, game_id: int | None) -> RelayLink:
        return RelayLink(
            session,
            target,
            secret=self._secret,
            tasks=self._tasks,
            on_closed=self._link_closed,
            on_complete=lambda _: self._relays_changed.set(),
            game_id=game_id,
        )

    # --- hook: the client went away ---------------------------------------------------------
    def connection_lost(self, session: ClientSession) -> None:
        self._end(session)

    def close_all(self) -> None:
        for session in list(self.links):
            self._end(session)

    def _end(self, session: ClientSession) -> None:
        link = self.links.pop(session, None)
        if link is not None:
            link.close()
            self._relays_changed.set()

    def relayed_games_running(self) -> int:
        """Clients of this server in games running on other servers."""
        return sum(1 for link in self.links.values() if link.entered and not link.complete)

    async def wait_relayed_games(self, timeout_s: float) -> bool:
        """Draining: let this server's relayed clients finish their games too (up to
        `timeout_s`). True when none is left playing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.relayed_games_running():
            self._relays_changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._relays_changed.wait(), remaining)
            except TimeoutError:
                return False
        return True

    # --- the host went away -------------------------------------------------------------------
    def _link_closed(self, link: RelayLink) -> None:
        self._relays_changed.set()
        session = link.session
        if link.ended or self.links.get(session) is not link:
            return
        if link.close_code in PASSED_ON_CLOSE_CODES:
            del self.links[session]
            session.outbox.close(link.close_code or 1008, link.close_reason)
            return
        if not link.entered or link.complete:
            del self.links[session]  # nothing running to lose: back to local handling
            return
        if link.close_code == GOING_AWAY:
            self._game_over(link)  # the host shut down before the game could finish
            return
        log.warning("relay lost; waiting for the host's verdict", host=link.host.server_id, game_id=link.game_id)
        link.lost = True

    def _recheck_lost_links(self) -> None:
        """After each registry refresh: a lost host that is gone ends the game; one that still
        looks live gets a rejoin attempt."""
        for link in [link for link in self.links.values() if link.lost]:
            host = self._registry.get(link.host.server_id)
            if host is None or host.status == "offline":
                self._game_over(link)
            elif not link.rejoining:
                link.rejoining = True
                self._tasks.spawn(self._rejoin(link, host), "relay rejoin")

    async def _rejoin(self, lost: RelayLink, host: ServerRecord) -> None:
        """Reconnect to a host that still heartbeats and ask for the game again (a rejoin:
        the client gets a fresh Snapshot). A host that answers but no longer has the game
        ends it for the client; one that cannot be reached leaves the verdict to the registry."""
        session = lost.session
        fresh = self._new_link(session, host, lost.game_id)
        fresh.last_tick, fresh.last_sequence = lost.last_tick, lost.last_sequence
        opened = await fresh.open(self._settings.relay_answer_seconds)
        lost.rejoining = False
        if self.links.get(session) is not lost:
            fresh.close()  # the client moved on meanwhile
            return
        if not opened:
            return
        self.links[session] = fresh
        frame = protocol.encode_client_message(protocol.JoinGame(game_id=lost.game_id or 0))
        if await fresh.enter(frame, self._settings.relay_answer_seconds):
            log.info("relay rejoined", host=host.server_id, game_id=lost.game_id)
            return
        self._game_over(fresh)

    def _game_over(self, link: RelayLink) -> None:
        session = link.session
        if self.links.get(session) is link:
            del self.links[session]
        link.close()
        session.outbox.send(link.game_over_frame())
        log.warning("game lost with its host; client told", host=link.host.server_id, game_id=link.game_id)
