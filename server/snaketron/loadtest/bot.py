"""One load-test bot: an account, a WebSocket connection, and the games it plays.

A bot speaks the protocol as a real client does: it signs in over HTTP, sends
its token, syncs its clock (ClockSyncRequest), echoes JoinGame after
SoloGameCreated or the server's JoinGame, and stamps its commands with the tick
they are meant for. Its connection (loadtest/connection.py) hands over every
frame as it arrives, synchronously: game events feed the game's mirror and the
latency figures at once; every other message goes to an inbox that `reply`
reads. No task per bot reads, and a command goes out without awaiting anything.

Event delivery latency. An event of tick T is produced when the server computes
tick T, which is due at `start_ms + (T + COMMIT_DELAY_TICKS + 1) * tick_ms`
server time (`engine.timing.tick_deadline_ms`): the committed state runs 5 ticks
behind real time, and tick T can only be computed once it is over. The latency is
the arrival time (this process's clock when the frame was decoded) plus the
clock-sync offset minus that due time, so it includes the server's timer
lateness, the tick, encoding, the network and the load generator's own queueing.
Counted: SnakeTurned, SnakeDied, FoodSpawned, FoodEaten, the completing
StatusUpdated and the periodic Snapshot (every 10 ticks; not the Snapshot a
member gets on joining). Not counted: CommandScheduled (sent when the command
arrives, ahead of its tick: it has its own command-to-scheduled latency).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from snaketron import protocol
from snaketron.client import AccountError, UnexpectedMessage
from snaketron.engine import CommandId, Direction, GameCommand, GameCommandMessage, GameEventMessage, Turn
from snaketron.engine.game import SNAPSHOT_EVERY_TICKS
from snaketron.engine.timing import tick_deadline_ms
from snaketron.loadtest.connection import LeanConnection

if TYPE_CHECKING:
    from snaketron.loadtest.pilot import Pilot
    from snaketron.loadtest.runner import RunContext

CLOCK_SYNC_ROUNDS = 5
REPLY_TIMEOUT_S = 10.0
# Replies that wait for the database (authentication, lobby creation) may take longer
# under load; a real client waits for them too. Their latency is what is measured.
DATABASE_REPLY_TIMEOUT_S = 30.0
# A game lasts at most its steering time plus this long (a snake without a pilot
# meets a wall within 200 ticks), plus any start delay the server adds.
GAME_OVER_SLACK_S = 60.0
# A command rejected because the game ended while it was in flight is a race every
# real client meets, not an error.
GAME_OVER_REASON = "the game is over"
# Account API answers that say "later" (rate limited, database unavailable): the bot waits
# the Retry-After they carry and asks again, for at most this long in all, as a client would.
THROTTLED_STATUSES = frozenset({429, 503})
MAX_THROTTLED_WAIT_S = 120.0

M = TypeVar("M")


class ClockEstimate:
    """Server time minus local time, from the ClockSyncRequest sample with the shortest
    round trip seen by any bot of the run: its error is at most half that round trip,
    and with many bots one of them catches a quiet moment (NTP's rule of thumb)."""

    def __init__(self) -> None:
        self.round_trip_ms = math.inf
        self.offset_ms = 0.0

    def observe(self, round_trip_ms: float, offset_ms: float) -> None:
        if round_trip_ms < self.round_trip_ms:
            self.round_trip_ms = round_trip_ms
            self.offset_ms = offset_ms


class BotFailure(Exception):
    """Something went wrong for a bot; `kind` is how the report counts it."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, BotFailure):
        return exc.kind
    if isinstance(exc, ConnectionClosed):
        code = exc.rcvd.code if exc.rcvd is not None else "none"
        return f"closed:{code}"
    if isinstance(exc, AccountError):
        return f"http:{exc.status}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, (OSError, InvalidHandshake, InvalidURI)):
        return "connect_failed"
    return f"exception:{type(exc).__name__}"


class Bot:
    def __init__(self, index: int, ctx: RunContext) -> None:
        self.index = index
        self.ctx = ctx
        self.username = f"{ctx.options.user_prefix}{index}"
        self.connection: LeanConnection | None = None
        self.token = ""
        self.user_id = 0
        self.inbox: deque[protocol.ServerMessage] = deque()
        self.wakeup = asyncio.Event()  # something arrived in the inbox, or the game ended
        self.disconnected = asyncio.Event()
        self._command_sequence = 0
        self.lobby_round = 0  # the last lobby round of its group this bot joined
        self._reset_game(None)

    # --- the current game -------------------------------------------------------------
    def _reset_game(self, game_id: int | None) -> None:
        self.game_id = game_id
        self.pilot: Pilot | None = None
        self.start_ms = 0
        self.tick_ms = 0
        self.seen_snapshot = False
        self.game_over = asyncio.Event()
        self.lobby_players = 0
        self.steer_until_ms = math.inf
        self.live = False  # counted in metrics.players_live
        self.unconfirmed_turn_at_ms = 0.0
        self.sent_commands: dict[int, float] = {}  # client sequence number -> local send time (ms)

    def enter(self, game_id: int, *, player: bool) -> None:
        """From now on, events of `game_id` are this bot's game (call before asking to join it)."""
        self.leave()
        self._reset_game(game_id)
        if player:
            self.pilot = self.ctx.pilots.join(game_id, self)
        self.ctx.metrics.bots_in_game += 1

    def leave(self) -> None:
        if self.game_id is None:
            return
        if self.pilot is not None:
            self.ctx.pilots.leave(self.game_id, self)
            self.pilot = None
        if self.live:
            self.live = False
            self.ctx.metrics.players_live -= 1
        self.ctx.metrics.bots_in_game -= 1
        self.game_id = None

    # --- connection ------------------------------------------------------------------------
    async def sign_in(self) -> None:
        """Register, or log in when the account exists (an earlier run's); waits out throttling."""
        metrics = self.ctx.metrics
        metrics.attempts += 1
        began = time.perf_counter()
        accounts = self.ctx.sources.accounts_of(self.index)
        username, password = self.username, self.ctx.options.password
        try:
            signed = await self._unthrottled(lambda: accounts.register(username, password))
        except AccountError as exc:
            if exc.status != 409:
                raise
            signed = await self._unthrottled(lambda: accounts.login(username, password))
        metrics.latency["sign_in"].record_ms((time.perf_counter() - began) * 1000)
        self.token = signed.token

    async def _unthrottled(self, request: Callable[[], Awaitable[M]]) -> M:
        """`request()`, asked again after each answer that says to retry later (counted in
        `metrics.throttled`, not as errors), within MAX_THROTTLED_WAIT_S in all."""
        waited = 0.0
        while True:
            try:
                return await request()
            except AccountError as exc:
                wait = exc.retry_after_s
                if exc.status not in THROTTLED_STATUSES or wait is None or waited + wait > MAX_THROTTLED_WAIT_S:
                    raise
                self.ctx.metrics.throttled[f"http:{exc.status}"] += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.ctx.stopping.wait(), wait)
                if self.ctx.stopping.is_set():
                    raise BotFailure("stopped") from None
                waited += wait

    async def connect(self) -> None:
        """Open the WebSocket, authenticate and sync the clock."""
        metrics = self.ctx.metrics
        if not self.token:
            await self.sign_in()
        metrics.attempts += 1
        began = time.perf_counter()
        self.disconnected.clear()
        self.connection = await LeanConnection.open(
            self.ctx.options.ws_url,
            self._on_frame,
            self._on_closed,
            open_timeout=REPLY_TIMEOUT_S,
            local_addr=self.ctx.sources.local_addr(self.index),
        )
        metrics.latency["connect"].record_ms((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        await self.send(protocol.Token(token=self.token))
        authenticated = await self._expect(protocol.Authenticated, DATABASE_REPLY_TIMEOUT_S)
        metrics.latency["auth"].record_ms((time.perf_counter() - began) * 1000)
        self.user_id = authenticated.user_id
        await self._sync_clock()

    async def _expect(self, kind: type[M], timeout_s: float) -> M:
        """The next message of `kind` while connecting; fails as `GameClient.expect` did, so
        the report's error kinds stay: `timeout`, `closed:<code>`, `exception:UnexpectedMessage`."""
        deadline = time.monotonic() + timeout_s
        while True:
            while self.inbox:
                message = self.inbox.popleft()
                if isinstance(message, kind):
                    return message
                if isinstance(message, (protocol.AccessDenied, protocol.Error)):
                    raise UnexpectedMessage(f"waiting for {kind.__name__}, got {message!r}")
            connection = self.connection
            if connection is None or self.disconnected.is_set():
                raise connection.closed_exc if connection is not None else BotFailure("not_connected")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind.__name__} within {timeout_s}s")
            await self._until_woken(remaining)

    async def _until_woken(self, timeout_s: float) -> None:
        """Sleep until something arrives in the inbox, the game ends or the connection
        goes (`wakeup`), or `timeout_s` passes; the callers look again either way."""
        self.wakeup.clear()
        try:
            await asyncio.wait_for(self.wakeup.wait(), timeout_s)
        except TimeoutError:
            pass

    async def _sync_clock(self) -> None:
        """Clock-sync samples; the one with the shortest round trip goes to the run's estimate."""
        best: tuple[float, float] | None = None
        for _ in range(CLOCK_SYNC_ROUNDS):
            sent = time.time() * 1000
            await self.send(protocol.ClockSyncRequest(client_time=int(sent)))
            reply = await self._expect(protocol.ClockSyncResponse, REPLY_TIMEOUT_S)
            arrived = time.time() * 1000
            round_trip = arrived - sent
            offset = reply.server_time - (sent + round_trip / 2)
            if best is None or round_trip < best[0]:
                best = (round_trip, offset)
        assert best is not None
        self.ctx.clock.observe(*best)
        self.ctx.metrics.clock_offsets_ms.append(best[1])

    @property
    def clock_offset_ms(self) -> float:
        """Server time minus local time: the run's best estimate (every bot talks to one server)."""
        return self.ctx.clock.offset_ms

    async def close(self) -> None:
        self.leave()
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.on_message = _ignore_frame  # nothing of a closing connection is read
            try:
                await connection.close(timeout=5)
            except OSError:
                pass
        self.inbox.clear()

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.disconnected.is_set()

    # --- sending ---------------------------------------------------------------------------
    async def send(self, message: protocol.ClientMessage) -> None:
        """Sends at once (nothing is awaited: a coroutine so that callers read as before)."""
        self._send_now(message)

    def _send_now(self, message: protocol.ClientMessage) -> None:
        if self.connection is None:
            raise BotFailure("not_connected")
        self.connection.send_text(protocol.encode_client_message(message))
        self.ctx.metrics.sent += 1

    def send_turn(self, direction: Direction, tick: int) -> None:
        """Called by the pilot: a turn meant for `tick` (the next tick the server computes)."""
        if self.connection is None or self.disconnected.is_set():
            return
        self._command_sequence += 1
        now = time.time() * 1000
        self.sent_commands[self._command_sequence] = now
        self.unconfirmed_turn_at_ms = now
        try:
            self._send_now(self._turn(direction, tick))
        except ConnectionClosed:
            pass  # the close is seen by the bot's wait and its round fails there

    def _turn(self, direction: Direction, tick: int) -> GameCommandMessage:
        return GameCommandMessage(
            command_id_client=CommandId(tick=tick, user_id=self.user_id, sequence_number=self._command_sequence),
            command_id_server=None,
            command=GameCommand(Turn=Turn(direction=direction)),
        )

    # --- receiving -------------------------------------------------------------------------
    def _on_frame(self, frame: bytes) -> None:
        """Called by the connection for every message, as it arrives."""
        arrival_ms = time.time() * 1000
        metrics = self.ctx.metrics
        metrics.received += 1
        metrics.received_bytes += len(frame)
        try:
            # From bytes: msgspec reads UTF-8 itself, no str is made per recipient.
            message = self.ctx.decoder.decode(frame)
        except protocol.ProtocolError as exc:
            metrics.error(f"bad_frame:{exc.code}")
            return
        if type(message) is GameEventMessage:
            self._on_event(message, arrival_ms)
            return
        if isinstance(message, (protocol.CustomGameCreated, protocol.CustomGameJoined)):
            # The lobby's Snapshot follows at once: be in the game before reading it.
            self.enter(message.game_id, player=True)
        elif isinstance(message, protocol.Error) and message.message == GAME_OVER_REASON:
            metrics.late_commands += 1
            return
        self.inbox.append(message)
        self.wakeup.set()

    def _on_closed(self) -> None:
        self.disconnected.set()
        self.wakeup.set()

    def _on_event(self, message: GameEventMessage, arrival_ms: float) -> None:
        if message.game_id != self.game_id:
            return  # a game this bot has left
        event = message.event
        snapshot = event.Snapshot
        if snapshot is not None:
            state = snapshot.game_state
            first = not self.seen_snapshot
            self.seen_snapshot = True
            pilot = self.pilot
            if pilot is not None:
                pilot.mirror.accept_snapshot(message.sequence, state)
            if state.status == "Stopped":
                self.lobby_players = len(state.players)
                self.wakeup.set()
                return
            if not self.tick_ms:
                self.start_ms, self.tick_ms = state.start_ms, state.properties.tick_duration_ms
                self.steer_until_ms = state.start_ms + self.ctx.options.game_seconds * 1000
                if pilot is not None:
                    pilot.begin()
                    self.live = True
                    self.ctx.metrics.players_live += 1
            if state.status.Complete is not None:
                self._game_completed()
            elif not first and message.tick > 0 and message.tick % SNAPSHOT_EVERY_TICKS == 0:
                self._record_delivery(message.tick, arrival_ms)
            return
        scheduled = event.CommandScheduled
        if scheduled is not None:
            if self.pilot is not None:
                self.pilot.mirror.accept_command(message.sequence, scheduled.command_message)
            # Events carry no user_id (as the original server's): the server's stamp names the sender.
            stamp = scheduled.command_message.command_id_server
            if stamp is not None and stamp.user_id == self.user_id:
                sent = self.sent_commands.pop(scheduled.command_message.command_id_client.sequence_number, None)
                if sent is not None:
                    self.ctx.metrics.latency["command_to_scheduled"].record_ms(arrival_ms - sent)
                self.unconfirmed_turn_at_ms = 0.0
            return
        status = event.StatusUpdated
        if status is not None:
            if status.status == "Stopped" or status.status.Complete is None:
                return  # Started: sent as the game starts, ahead of any tick
            self._record_delivery(message.tick, arrival_ms)
            self._game_completed()
            return
        self._record_delivery(message.tick, arrival_ms)

    def _record_delivery(self, tick: int, arrival_ms: float) -> None:
        if self.tick_ms:
            due = tick_deadline_ms(tick, self.start_ms, self.tick_ms)
            self.ctx.metrics.latency["event_delivery"].record_ms(arrival_ms + self.clock_offset_ms - due)

    def _game_completed(self) -> None:
        if self.live:
            self.live = False
            self.ctx.metrics.players_live -= 1
        if not self.game_over.is_set():
            self.game_over.set()
            self.wakeup.set()
            if self.game_id is not None:
                self.ctx.live_games.remove(self.game_id)

    # --- waiting ---------------------------------------------------------------------------
    def _check_inbox(self, want: type | None) -> protocol.ServerMessage | None:
        """The first inbox message of type `want` (others are passed over); raises on refusals."""
        while self.inbox:
            message = self.inbox.popleft()
            if want is not None and isinstance(message, want):
                return message
            if isinstance(message, protocol.AccessDenied):
                raise BotFailure(f"denied:{message.reason}")
            if isinstance(message, protocol.Error):
                raise BotFailure(f"error:{message.code}")
            if isinstance(message, (protocol.Shutdown, protocol.ServerShutdown)):
                raise BotFailure("server_shutdown")
        return None

    async def _wait(self, done: Callable[[], object], stage: str, timeout_s: float) -> object:
        deadline = time.monotonic() + timeout_s
        while True:
            found = done()
            if found is not None:
                return found
            if self.disconnected.is_set():
                raise BotFailure(f"disconnected:{stage}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BotFailure(f"timeout:{stage}")
            await self._until_woken(remaining)

    async def reply(self, kind: type, stage: str, timeout_s: float = REPLY_TIMEOUT_S):
        """The next message of `kind`; an AccessDenied, Error or shutdown fails with its kind."""
        return await self._wait(lambda: self._check_inbox(kind), stage, timeout_s)

    async def wait_lobby_players(self, count: int, timeout_s: float) -> int:
        """Wait until the lobby has `count` players (or the time is up); returns how many it has."""
        try:
            await self._wait(
                lambda: True if self.lobby_players >= count else self._check_inbox(None), "lobby_fill", timeout_s
            )
        except BotFailure as exc:
            if exc.kind != "timeout:lobby_fill":
                raise
        return self.lobby_players

    async def play_to_the_end(self, kind: str) -> None:
        """Wait for the current game to complete, then count it (once per game, however many
        local bots played it; spectators count their watches apart)."""
        metrics = self.ctx.metrics
        metrics.plays_started[kind] += 1
        timeout = self.ctx.options.game_seconds + GAME_OVER_SLACK_S
        await self._wait(lambda: True if self.game_over.is_set() else self._check_inbox(None), "game_over", timeout)
        metrics.plays_completed[kind] += 1
        if self.pilot is not None and self.game_id is not None:
            metrics.game_completed(kind, self.game_id)
        self.leave()


def _ignore_frame(frame: bytes) -> None:
    pass
