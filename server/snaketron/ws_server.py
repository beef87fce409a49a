"""The WebSocket server: connections, the state machine of PROTOCOL.md, dispatch.

Each connection reads frames one at a time: size, budget and decoding checks
first (a bad frame gets an `Error` and changes nothing), then the state check,
then the handler for that message type. Handlers are dispatch: they call a room
(join, leave, command, chat) or a service (lobbies, matchmaking, the cluster's
router), and turn what it returns or raises into frames. The services come in
the constructor, typed by the `Protocol`s below; none of them sends a frame or
knows about aiobotocore.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from snaketron import protocol
from snaketron.auth import InvalidToken, TokenIssuer, check_generation
from snaketron.cluster.peers import PeerIdentity
from snaketron.config import Settings
from snaketron.db.errors import DatabaseError, DatabaseUnavailable, NotFound
from snaketron.db.interface import Database
from snaketron.engine import CommandRejected, GameCommandMessage, GameType, is_solo
from snaketron.fanout import Outbox, send_to_all
from snaketron.games import MAX_SEATS_PER_USER, Role, Room, Rooms, wall_clock_ms
from snaketron.lobbies import LobbyRefused, LobbyService
from snaketron.logs import get_logger
from snaketron.matchmaking.service import MatchmakingRefused
from snaketron.ratelimit import KeyedRateLimiter, TokenBucket, address_key
from snaketron.rating import copy_of
from snaketron.sessions import ClientSession, ConnectionState, MessageStats
from snaketron.tasks import BackgroundTasks
from snaketron.ws_connection import GameServerConnection

log = get_logger(__name__)

UNAUTH = ConnectionState.UNAUTHENTICATED
AUTH = ConnectionState.AUTHENTICATED
IN_GAME = ConnectionState.IN_GAME
ANY_STATE = frozenset(ConnectionState)

# Frames up to this many times the configured limit get an `Error`; beyond it the
# WebSocket layer closes the connection (1009) without buffering the whole frame.
HARD_FRAME_LIMIT_FACTOR = 4

Handler = Callable[[ClientSession, Any], Awaitable[None]]
# Messages that look a game up by code or id: guessing them is budgeted per address.
GAME_LOOKUPS = (protocol.JoinGame, protocol.JoinCustomGame, protocol.SpectateGame)
RELAY_ADDRESS_PREFIX = "relay:"
# Past SNAKETRON_MAX_GAMES (on a cluster, routing has already tried the other servers).
SERVER_FULL = "this server is full; try again in a moment"


class Matchmaking(Protocol):
    """This server's side of matchmaking (`MatchmakingService`), as dispatch uses it."""

    async def enqueue(self, player: ClientSession, game_type: GameType) -> None: ...
    async def dequeue(self, user_id: int) -> None: ...
    def connection_lost(self, player: ClientSession) -> None: ...
    def running_match_of(self, user_id: int) -> int | None: ...
    def matched_game_of(self, user_id: int) -> int | None: ...
    def seated_elsewhere(self, user_id: int) -> None: ...


class ClusterRouting(Protocol):
    """Relaying to the other servers of the region (`cluster.GameRouter`)."""

    def check_handshake(self, connection: ServerConnection, request: Request) -> Response | None: ...
    def peer_identity(self, connection: ServerConnection) -> PeerIdentity | None: ...
    async def relayed(self, session: ClientSession, message: protocol.ClientMessage, frame: str | bytes) -> bool: ...
    async def route_elsewhere(
        self, session: ClientSession, message: protocol.ClientMessage, frame: str | bytes
    ) -> bool: ...
    def connection_lost(self, session: ClientSession) -> None: ...


class WsServer:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        tokens: TokenIssuer,
        rooms: Rooms,
        lobbies: LobbyService,
        tasks: BackgroundTasks,
        *,
        matchmaking: Matchmaking | None = None,
        cluster: ClusterRouting | None = None,
        clock_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.settings = settings
        self.db = db
        self.tokens = tokens
        self.rooms = rooms
        self.lobbies = lobbies
        self.tasks = tasks
        self.clock_ms = clock_ms
        self.matchmaking = matchmaking
        self.cluster = cluster  # relaying to the other servers of the region
        self.commands_in_place = 0  # game commands handled as their frame arrived (ws_connection)
        self.stats = MessageStats()
        self.sessions: set[ClientSession] = set()
        self.accepting_games = True  # False while draining
        self._per_address: collections.Counter[str] = collections.Counter()
        self._auth_deadlines: dict[ClientSession, asyncio.TimerHandle] = {}
        # Unknown game codes and ids answered per address: a guesser's budget, refilled
        # slowly, so repeated guessing is refused before any lookup (no database read).
        per_minute = settings.game_lookup_misses_per_min
        self._lookup_misses = KeyedRateLimiter.per_minute(per_minute) if per_minute > 0 else None
        self._server: Server | None = None
        self._routes: dict[type, tuple[Handler, frozenset[ConnectionState]]] = {
            protocol.Token: (self._on_token, frozenset({UNAUTH})),
            protocol.Ping: (self._on_ping, ANY_STATE),
            protocol.ClockSyncRequest: (self._on_clock_sync, ANY_STATE),
            protocol.QueueForMatch: (self._on_queue_for_match, frozenset({AUTH})),
            protocol.LeaveQueue: (self._on_leave_queue, frozenset({AUTH})),
            # JoinGame in a game: for that same game it changes nothing (as the original
            # server, which ignored it); for another one it is refused while the game runs.
            protocol.JoinGame: (self._on_join_game, frozenset({AUTH, IN_GAME})),
            protocol.CreateCustomGame: (self._on_create_custom_game, frozenset({AUTH})),
            protocol.JoinCustomGame: (self._on_join_custom_game, frozenset({AUTH})),
            protocol.SpectateGame: (self._on_spectate_game, frozenset({AUTH})),
            protocol.CreateSoloGame: (self._on_create_solo_game, frozenset({AUTH})),
            GameCommandMessage: (self._on_game_command, frozenset({IN_GAME})),
            protocol.LeaveGame: (self._on_leave_game, frozenset({IN_GAME})),
            protocol.StartCustomGame: (self._on_start_custom_game, frozenset({IN_GAME})),
            protocol.UpdateCustomGameSettings: (self._on_update_settings, frozenset({IN_GAME})),
            protocol.Chat: (self._on_chat, frozenset({IN_GAME})),
        }

    # --- listening ----------------------------------------------------------------------
    async def start(self, bind_address: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await serve(
            self._handle_connection,
            bind_address,
            port,
            max_size=self.settings.max_frame_bytes * HARD_FRAME_LIMIT_FACTOR,
            compression="deflate" if self.settings.ws_compression else None,
            server_header=None,
            process_request=self._check_handshake,
            create_connection=GameServerConnection,
        )
        return self._server.sockets[0].getsockname()[1]

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        """Relay connections from other servers must carry the cluster secret (HTTP 403 otherwise)."""
        return None if self.cluster is None else self.cluster.check_handshake(connection, request)

    def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close(close_connections=False)

    async def close(self, code: int = 1001, reason: str = "server shutting down") -> None:
        for session in list(self.sessions):
            session.outbox.close(code, reason)
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()

    def broadcast(self, message: protocol.ServerMessage) -> None:
        send_to_all((s.outbox for s in self.sessions), protocol.encode_server_message(message))

    # --- one connection ------------------------------------------------------------------
    async def _handle_connection(self, connection: ServerConnection) -> None:
        address = _address_of(connection)
        # Another server relaying one of its clients: authenticated by that server, and
        # not counted against the address (all its relays share the one address).
        peer = self.cluster.peer_identity(connection) if self.cluster is not None else None
        if peer is not None:
            address = f"{RELAY_ADDRESS_PREFIX}{address}"
        elif self._per_address[address] >= self.settings.max_connections_per_ip:
            self.stats.connections_refused += 1
            await connection.close(1008, "too many connections from this address")
            return
        self._per_address[address] += 1
        session = ClientSession(
            Outbox(connection, self.settings.send_queue_limit),
            address,
            TokenBucket(self.settings.msg_rate_per_sec, self.settings.msg_burst),
        )
        if peer is not None:
            session.user_id, session.username = peer.user_id, peer.username
        else:
            self._arm_auth_deadline(session)
        self.sessions.add(session)
        if isinstance(connection, GameServerConnection):
            connection.take_now = lambda data: self._receive_now(session, data)
            connection.on_control_frame = lambda: self._control_frame(session)
        try:
            async for frame in connection:
                # Once a close is under way, frames still in flight are read and dropped, so
                # the closing handshake (which needs the reader) completes with our code.
                if not session.outbox.closing:
                    session.busy = True
                    try:
                        await self._receive(session, frame)
                    finally:
                        session.busy = False
        except ConnectionClosed:
            pass
        finally:
            if (deadline := self._auth_deadlines.pop(session, None)) is not None:
                deadline.cancel()
            self.sessions.discard(session)
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]
            self._disconnected(session)

    async def _receive(self, session: ClientSession, frame: str | bytes) -> bool:
        """Handle one frame; False when it was refused."""
        if isinstance(frame, bytes):
            return self._refuse(session, "binary_frame", "messages are JSON text frames")
        if len(frame) > self.settings.max_frame_bytes:
            return self._refuse(
                session, "frame_too_large", f"frames are limited to {self.settings.max_frame_bytes} bytes"
            )
        if not session.bucket.try_take():
            return self._refuse(session, "rate_limited", "too many messages; slow down")
        try:
            message = protocol.decode_client_message(frame)
        except protocol.ProtocolError as exc:
            return self._refuse(session, exc.code, exc.message)
        # A session relayed to its game's host: the host's state machine decides.
        if self.cluster is not None and await self.cluster.relayed(session, message, frame):
            return True
        handler, states = self._routes[type(message)]
        state = session.state
        if state not in states and not self._finished_game_allows(session, states):
            name = "GameCommand" if isinstance(message, GameCommandMessage) else type(message).__name__
            return self._refuse(session, "wrong_state", f"{name} is not allowed while {state.value}")
        if isinstance(message, GAME_LOOKUPS) and self._lookups_exhausted(session):
            return False
        # A game that lives (or is placed) on another server: relay the session there.
        if self.cluster is not None and await self.cluster.route_elsewhere(session, message, frame):
            return True
        await handler(session, message)
        return True

    def _control_frame(self, session: ClientSession) -> None:
        """A Ping or Pong from the client: it takes from the message budget too (a client
        answering the server's keepalive pings spends one a ping interval)."""
        if session.bucket.try_take():
            return
        if session.outbox.closing:
            # Still pinging past its budget once our Close is out: websockets would answer
            # each Ping until the closing handshake times out (10 s). Drop the socket.
            if session.outbox.connection.protocol.state is State.CLOSING:
                session.outbox.abort()
            return
        self._refuse(session, "rate_limited", "too many messages; slow down")

    def _receive_now(self, session: ClientSession, data: bytes) -> bool:
        """A game command for a game hosted here, handled as its frame arrives (nothing in
        it awaits). False hands the frame to the connection's handler task instead: while
        that task is busy (order), for anything else, and for anything that needs an
        answer the usual path gives (refusals, relays, errors)."""
        hosted = session.room
        if (
            session.busy
            or hosted is None
            or hosted.finished
            or session.role != "player"
            or session.outbox.closing
            or not data.startswith(GAME_COMMAND_PREFIX)
            or len(data) > self.settings.max_frame_bytes
            # Not yet checked as UTF-8 (websockets checks a text message once it is
            # assembled): anything but ASCII, which a command never needs, takes the
            # usual path, where invalid UTF-8 closes the connection (1007).
            or not data.isascii()
        ):
            return False
        try:
            message = protocol.decode_client_message(data)
        except protocol.ProtocolError:
            return False  # refused on the usual path, with its error
        if type(message) is not GameCommandMessage or not session.bucket.try_take():
            return False
        self.commands_in_place += 1
        self._game_command(session, hosted, message)
        return True

    def _finished_game_allows(self, session: ClientSession, states: frozenset[ConnectionState]) -> bool:
        """Once its game is over, a member may go on as if it had left the game (a client
        that starts another solo game right after game over needs no LeaveGame)."""
        hosted = session.room
        if hosted is None or not hosted.finished or AUTH not in states:
            return False
        self._leave_game(session)
        return True

    def _refuse(self, session: ClientSession, code: str, message: str) -> bool:
        self.stats.refused[code] += 1
        session.errors += 1
        if session.errors > self.settings.max_errors_before_close:
            session.outbox.close(1008, "too many invalid messages")
        else:
            session.error(code, message)
        return False

    def _arm_auth_deadline(self, session: ClientSession) -> None:
        """(Re)start the session's deadline to authenticate."""
        if (running := self._auth_deadlines.pop(session, None)) is not None:
            running.cancel()
        if self.settings.ws_auth_deadline_seconds > 0:
            self._auth_deadlines[session] = asyncio.get_running_loop().call_later(
                self.settings.ws_auth_deadline_seconds, self._auth_deadline_passed, session
            )

    def _auth_deadline_passed(self, session: ClientSession) -> None:
        """An unauthenticated connection only costs us: it may not linger (answering
        Pings keeps a socket open, not a seat)."""
        self._auth_deadlines.pop(session, None)
        if session.user_id:
            return
        if session.busy:
            # A frame (a Token waiting on the account store, say) is being handled: the
            # slowness is ours, not the client's. Look again one deadline later.
            self._arm_auth_deadline(session)
            return
        session.outbox.close(1008, "authentication deadline passed")

    def _lookups_exhausted(self, session: ClientSession) -> bool:
        """True (and the connection closed) when the session's address has used up its
        budget of unknown game codes and ids: refused without looking anything up."""
        if self._lookup_misses is None or session.address.startswith(RELAY_ADDRESS_PREFIX):
            return False
        if self._lookup_misses.retry_after(address_key(session.address)) <= 0:
            return False
        session.deny("too many unknown games asked for from this address; try again later")
        session.outbox.close(1008, "too many unknown game codes")
        return True

    def _unknown_game(self, session: ClientSession, reason: str) -> None:
        """Answer a lookup of a game that does not exist. It counts as an error of the
        connection and against the address's lookup budget: guessing codes ends in a
        closed connection and a slowed address."""
        session.deny(reason)
        session.errors += 1
        if self._lookup_misses is not None and not session.address.startswith(RELAY_ADDRESS_PREFIX):
            self._lookup_misses.try_take(address_key(session.address))
        if session.errors > self.settings.max_errors_before_close:
            session.outbox.close(1008, "too many invalid messages")

    def _disconnected(self, session: ClientSession) -> None:
        if self.cluster is not None:
            self.cluster.connection_lost(session)
        if self.matchmaking is not None and session.user_id:
            self.matchmaking.connection_lost(session)
        if session.room is not None:
            self._leave_game(session)

    # --- membership ------------------------------------------------------------------------
    def _enter(self, session: ClientSession, hosted: Room, role: Role) -> None:
        if session.room is not None and session.room is not hosted:
            self._leave_game(session)
        session.room = hosted
        session.role = role
        hosted.join(session, role)

    def _leave_game(self, session: ClientSession) -> None:
        hosted = session.room
        if hosted is None:
            return
        hosted.leave(session)  # a matched room ranks a player still gone at its end last
        session.room = None
        session.role = None
        # A lobby seat is freed on leave and on disconnect alike: a lobby must not wait
        # for someone who went away (unless the same user is still there on another
        # connection). A started game keeps the snake for a rejoin.
        in_lobby = hosted.kind == "custom" and not hosted.game.is_started and hosted.is_player(session.user_id)
        if in_lobby and not any(m.user_id == session.user_id for m in hosted.members):
            self.lobbies.leave(hosted, session.user_id)

    # --- handlers: any state -----------------------------------------------------------------
    async def _on_ping(self, session: ClientSession, _: protocol.Ping) -> None:
        session.send(protocol.Pong())

    async def _on_clock_sync(self, session: ClientSession, msg: protocol.ClockSyncRequest) -> None:
        session.send(protocol.ClockSyncResponse(client_time=msg.client_time, server_time=self.clock_ms()))

    async def _on_token(self, session: ClientSession, msg: protocol.Token) -> None:
        try:
            claims = self.tokens.verify(msg.token)
            user = await self.db.get_user(claims.user_id)
            check_generation(claims, user.token_generation)  # revoked? the item is read anyway
        except (InvalidToken, NotFound) as exc:
            # Which check failed is for the log; the client learns only that it failed.
            reason = exc.reason if isinstance(exc, InvalidToken) else "unknown user"
            log.info("ws_token_refused", reason=reason, address=session.address)
            session.deny("invalid token")
            session.outbox.close(1008, "invalid token")
            return
        except DatabaseError:
            session.error("unavailable", "the account store is unavailable; try again")
            # The client did its part in time; it gets a whole deadline for its retry.
            self._arm_auth_deadline(session)
            return
        session.user_id = user.user_id
        session.username = user.username
        session.rating = copy_of(user)  # matchmaking's ticket carries it: queueing reads nothing
        session.send(protocol.Authenticated(user_id=user.user_id, username=user.username))
        if self.matchmaking is not None:
            matched = self.matchmaking.running_match_of(session.user_id)
            if matched is not None:
                session.match_found(matched)

    # --- handlers: authenticated ---------------------------------------------------------------
    def _refuse_while_draining(self, session: ClientSession) -> bool:
        if self.accepting_games:
            return False
        session.deny("this server is shutting down; connect again to play")
        return True

    def _refuse_a_seat(self, session: ClientSession, *, solo: bool = False) -> bool:
        """A seat in a solo game or lobby: not for a player matched into a game they have
        not left, nor past MAX_SEATS_PER_USER unfinished games here (refused: True)."""
        if self._refuse_if_matched(session):
            return True
        if not self.rooms.has_seat_for(session.user_id, solo=solo):
            session.deny(f"you are in {MAX_SEATS_PER_USER} unfinished games here already; try again when one ends")
            return True
        return False

    def _seated_elsewhere(self, session: ClientSession) -> None:
        """The player takes a seat (nothing refused it): out of the match queue, before
        any await, so that the matcher cannot seat them meanwhile."""
        if self.matchmaking is not None:
            self.matchmaking.seated_elsewhere(session.user_id)

    def _refuse_if_matched(self, session: ClientSession) -> bool:
        """Refuse (True) while the player is matched into a game here they have not left."""
        matched = self.matchmaking.matched_game_of(session.user_id) if self.matchmaking is not None else None
        if matched is None:
            return False
        session.deny(f"you were matched into game {matched}: join it (or leave it) first")
        return True

    async def _on_create_solo_game(self, session: ClientSession, _: protocol.CreateSoloGame) -> None:
        game_id = await self._new_solo_game(session)
        if game_id is not None:
            session.send(protocol.SoloGameCreated(game_id=game_id))

    async def _new_solo_game(self, session: ClientSession) -> int | None:
        """Create and start a solo game for the session's user (the client then sends
        JoinGame); None when refused (the refusal is sent)."""
        if self._refuse_while_draining(session) or self._refuse_a_seat(session, solo=True):
            return None
        with self.rooms.reserving() as room_here:
            if not room_here:
                session.deny(SERVER_FULL)
                return None
            self._seated_elsewhere(session)
            try:
                game_id = await self.db.next_id("game")
            except DatabaseUnavailable:
                session.deny("the game store is unavailable; try again")
                return None
            self.rooms.open_solo(game_id, session.user_id, session.username)
        return game_id

    async def _on_join_game(self, session: ClientSession, msg: protocol.JoinGame) -> None:
        current = session.room
        if current is not None and current.game_id == msg.game_id:
            # Already receiving it. The original server ignored a repeated JoinGame; a
            # fresh Snapshot here would make clients re-base where they did not before.
            return
        if current is not None and not current.finished:
            session.error("wrong_state", "leave your game before joining another")
            return
        hosted = self.rooms.get(msg.game_id)
        if hosted is None:
            self._unknown_game(session, "game not found")
            return
        role = self._admissible_role(session, hosted)
        if role is None:
            session.deny("you are not a player of this game and it cannot be watched")
            return
        self._enter(session, hosted, role)

    def _admissible_role(self, session: ClientSession, hosted: Room) -> Role | None:
        if hosted.is_player(session.user_id):
            return "player"
        if hosted.allow_spectators and (not hosted.is_private or session.user_id in hosted.spectator_ids):
            return "spectator"
        return None

    async def _on_create_custom_game(self, session: ClientSession, msg: protocol.CreateCustomGame) -> None:
        if self._refuse_while_draining(session) or self._refuse_a_seat(session):
            return
        with self.rooms.reserving() as room_here:
            if not room_here:
                session.deny(SERVER_FULL)
                return
            refused = self.lobbies.creation_refused(session.user_id, msg.settings)
            if refused is not None:
                session.deny(refused)
                return
            self._seated_elsewhere(session)
            try:
                hosted = await self.lobbies.create(session.user_id, session.username, msg.settings)
            except LobbyRefused as exc:
                session.deny(exc.reason)
                return
            except DatabaseError:
                session.deny("the lobby store is unavailable; try again")
                return
        session.send(protocol.CustomGameCreated(game_id=hosted.game_id, game_code=hosted.game_code or ""))
        self._enter(session, hosted, "player")

    async def _on_join_custom_game(self, session: ClientSession, msg: protocol.JoinCustomGame) -> None:
        hosted = self.lobbies.find(msg.game_code)
        if hosted is None:
            self._unknown_game(session, "unknown or expired game code")
            return
        if not hosted.is_player(session.user_id) and self._refuse_a_seat(session):
            return
        try:
            self.lobbies.join(hosted, session.user_id, session.username)
        except LobbyRefused as exc:
            session.deny(exc.reason)
            return
        self._seated_elsewhere(session)
        session.send(protocol.CustomGameJoined(game_id=hosted.game_id))
        self._enter(session, hosted, "player")

    async def _on_spectate_game(self, session: ClientSession, msg: protocol.SpectateGame) -> None:
        hosted = self.rooms.get(msg.game_id)
        if hosted is None and msg.game_code:
            hosted = self.lobbies.find(msg.game_code)
        if hosted is None:
            self._unknown_game(session, "game not found")
            return
        if not hosted.allow_spectators:
            session.deny("this game does not allow spectators")
            return
        if hosted.is_private and (msg.game_code is None or msg.game_code.strip().upper() != hosted.game_code):
            session.deny("this game is private: spectating needs its game code")
            return
        session.send(protocol.SpectatorJoined())
        # Attaching records the spectator and adds it to spectator_ids, which also admits a
        # later JoinGame to a private game (adding it here first skipped the record).
        self._enter(session, hosted, "spectator")

    async def _on_queue_for_match(self, session: ClientSession, msg: protocol.QueueForMatch) -> None:
        if is_solo(msg.game_type):
            # Nobody to wait for: the solo game is made at once and announced as a match
            # is, with {"JoinGame": id}; the client answers with its own JoinGame.
            game_id = await self._new_solo_game(session)
            if game_id is not None:
                session.send(protocol.MatchFound(game_id=game_id))
            return
        if self.matchmaking is None:
            session.deny("matchmaking is not available on this server")
            return
        if self._refuse_while_draining(session):
            return  # (a match may be hosted by any server of the region: no room check)
        # One seat at a time: a player matched into a game they have not left is not
        # queued again (each match would otherwise seat them, and their opponents would
        # play against a snake nobody steers).
        if self._refuse_if_matched(session):
            return
        try:
            await self.matchmaking.enqueue(session, msg.game_type)
        except MatchmakingRefused as exc:
            session.deny(exc.reason)

    async def _on_leave_queue(self, session: ClientSession, _: protocol.LeaveQueue) -> None:
        if self.matchmaking is not None:
            await self.matchmaking.dequeue(session.user_id)
        session.send(protocol.QueueLeft())

    # --- handlers: in a game ----------------------------------------------------------------------
    async def _on_leave_game(self, session: ClientSession, _: protocol.LeaveGame) -> None:
        self._leave_game(session)

    async def _on_game_command(self, session: ClientSession, msg: GameCommandMessage) -> None:
        hosted = session.room
        assert hosted is not None
        self._game_command(session, hosted, msg)

    def _game_command(self, session: ClientSession, hosted: Room, msg: GameCommandMessage) -> None:
        self.stats.commands += 1
        if session.role != "player":
            self.stats.commands_rejected += 1
            session.error("not_a_player", "spectators cannot send commands")
            return
        try:
            hosted.command(session.user_id, msg)
        except CommandRejected as exc:
            self.stats.commands_rejected += 1
            session.error("command_rejected", exc.reason)

    def _custom_game_of(self, session: ClientSession) -> Room | None:
        hosted = session.room
        if hosted is None or hosted.kind != "custom":
            session.deny("not in a custom game")
            return None
        return hosted

    async def _on_update_settings(self, session: ClientSession, msg: protocol.UpdateCustomGameSettings) -> None:
        hosted = self._custom_game_of(session)
        if hosted is None:
            return
        try:
            self.lobbies.update_settings(hosted, session.user_id, msg.settings)
        except LobbyRefused as exc:
            session.deny(exc.reason)

    async def _on_start_custom_game(self, session: ClientSession, _: protocol.StartCustomGame) -> None:
        hosted = self._custom_game_of(session)
        if hosted is None:
            return
        try:
            self.lobbies.start(hosted, session.user_id)
        except LobbyRefused as exc:
            session.deny(exc.reason)

    async def _on_chat(self, session: ClientSession, msg: protocol.Chat) -> None:
        hosted = session.room
        assert hosted is not None
        relay = protocol.ChatMessage(
            game_id=hosted.game_id, user_id=session.user_id, username=session.username, text=msg.text
        )
        hosted.broadcast_frame(protocol.encode_server_message(relay))


# How every GameCommand frame begins (the encoding has no whitespace to allow for:
# a frame written otherwise simply takes the usual path).
GAME_COMMAND_PREFIX = b'{"GameCommand":'


def _address_of(connection: ServerConnection) -> str:
    remote = connection.remote_address
    return str(remote[0]) if remote else "unknown"
