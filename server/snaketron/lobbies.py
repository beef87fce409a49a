"""Custom lobbies: game codes, seats, the host's settings and start.

A lobby is a hosted custom game that has not started. Its code is claimed in
DynamoDB atomically (with the lobby item, in one transaction) so no two lobbies
of the cluster share one; a collision draws a new code. Seat changes happen
without awaiting between the check and the change, so concurrent joins can
never overfill a lobby and two starts can never start it twice.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

import msgspec

from snaketron import protocol
from snaketron.config import Settings
from snaketron.db.errors import DatabaseError, GameCodeTaken, InvalidRequest, NotFound
from snaketron.db.interface import Database
from snaketron.db.models import LobbyRecord
from snaketron.engine import AlreadyStarted, CustomGameSettings, Game, GameFull, GameTypeObject, NotEnoughPlayers
from snaketron.logs import get_logger
from snaketron.rooms.ports import RoomListener
from snaketron.rooms.room import Room
from snaketron.tasks import BackgroundTasks

log = get_logger(__name__)

CODE_ALPHABET = string.ascii_uppercase + string.digits
CODE_LENGTH = 8
CODE_ATTEMPTS = 8


def draw_game_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Codes are shown upper case; players type them in any case, with stray spaces."""
    return code.strip().upper()


class LobbyRefused(Exception):
    """A lobby request the client is told about with AccessDenied."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class LobbyWrites:
    """What this server has written of one open lobby it hosts."""

    host_user_id: int | None  # as last sent
    expires_at_ms: int  # as last sent
    # The expiry of the newest write known to have landed: until then the lobby's code
    # claim is surely this lobby's (nobody can claim a live code), whatever is in flight.
    durable_until_ms: int


class LobbyRooms(Protocol):
    """What lobbies need of the rooms (`games.Rooms`)."""

    server_id: int

    def open_lobby(
        self, game_id: int, settings: CustomGameSettings, code: str, host_user_id: int, username: str, now_ms: int
    ) -> Room: ...
    def subscribe(self, listener: RoomListener) -> None: ...
    def seating(self, user_id: int) -> Collection[Room]: ...


class LobbyService(RoomListener):
    """Codes, seats and starts of custom lobbies; a room listener (a disposed room's
    code is forgotten)."""

    def __init__(
        self,
        rooms: LobbyRooms,
        db: Database,
        settings: Settings,
        tasks: BackgroundTasks,
        *,
        clock_ms: Callable[[], int],
    ) -> None:
        self._rooms = rooms
        self._db = db
        self._settings = settings
        self._tasks = tasks
        self._clock_ms = clock_ms
        self.by_code: dict[str, Room] = {}
        # Open lobbies by code: a seat change that moves neither host nor expiry needs no
        # write while the expiry is far off (`_touch_seats`), and the start needs no
        # transaction while the code is surely ours (`_record_start`). A lobby whose
        # write failed is dropped from here: its writes are conditional from then on.
        self._written: dict[str, LobbyWrites] = {}
        self._creating: set[int] = set()  # users whose lobby is being made (awaits)
        rooms.subscribe(self)

    # --- create and find -----------------------------------------------------------
    async def create(self, host_user_id: int, username: str, settings: CustomGameSettings) -> Room:
        """A new lobby hosted by this user. One open lobby per host: a user who hosts one
        already (from any connection) is refused, so one account cannot hold the server's
        games (SNAKETRON_MAX_GAMES) with idle lobbies from many connections."""
        reason = self.creation_refused(host_user_id, settings)
        if reason is not None:
            raise LobbyRefused(reason)
        self._creating.add(host_user_id)
        try:
            return await self._create(host_user_id, username, settings)
        finally:
            self._creating.discard(host_user_id)

    def creation_refused(self, host_user_id: int, settings: CustomGameSettings) -> str | None:
        """Why `create` would refuse this user these settings (None: it would not), known
        before anything awaits: a caller can act on it first (leave the match queue)."""
        reason = settings.validate()
        if reason is not None:
            return reason
        if host_user_id in self._creating:
            return "you are creating a lobby already"
        hosting = self._open_lobby_hosted_by(host_user_id)
        if hosting is not None:
            return f"you host lobby {hosting.game_code} already: start it or leave it first"
        return None

    def _open_lobby_hosted_by(self, user_id: int) -> Room | None:
        for hosted in self._rooms.seating(user_id):  # unfinished rooms, a few at most
            game = hosted.game
            if hosted.kind == "custom" and not game.is_started and game.host_user_id == user_id:
                return hosted
        return None

    async def _create(self, host_user_id: int, username: str, settings: CustomGameSettings) -> Room:
        game_id = await self._db.next_id("game")
        now = self._clock_ms()
        for _ in range(CODE_ATTEMPTS):
            code = draw_game_code()
            lobby = LobbyRecord(
                game_code=code,
                game_id=game_id,
                host_user_id=host_user_id,
                settings=_to_wire(settings),
                server_id=self._rooms.server_id,
                created_at_ms=now,
                expires_at_ms=now + self._settings.lobby_ttl_seconds * 1000,
            )
            try:
                await self._db.create_lobby(lobby, is_private=settings.is_private)
                break
            except GameCodeTaken:
                log.info("game code collision; drawing another", code=code)
            except InvalidRequest as exc:  # validate() let through what DynamoDB cannot store
                log.error("lobby refused by the database", error=str(exc))
                raise LobbyRefused("these settings cannot be stored; change them and try again") from None
        else:
            raise LobbyRefused("could not allocate a game code; try again")
        hosted = self._rooms.open_lobby(game_id, settings, code, host_user_id, username, now)
        self.by_code[code] = hosted
        self._written[code] = LobbyWrites(host_user_id, lobby.expires_at_ms, durable_until_ms=lobby.expires_at_ms)
        return hosted

    def find(self, code: str) -> Room | None:
        hosted = self.by_code.get(normalise_code(code))
        if hosted is None or (hosted.finished and not hosted.game.is_started):
            return None
        return hosted

    # --- seats -------------------------------------------------------------------------
    def join(self, hosted: Room, user_id: int, username: str) -> None:
        """Seat a player (no await between the checks and the change)."""
        if hosted.is_player(user_id):
            return  # already seated: rejoining the lobby
        if hosted.game.is_started or hosted.finished:
            raise LobbyRefused("the game has already started")
        try:
            hosted.seat(user_id, username)
        except GameFull:
            raise LobbyRefused("the lobby is full") from None
        except AlreadyStarted:
            raise LobbyRefused("the game has already started") from None
        self._touch_seats(hosted)

    def leave(self, hosted: Room, user_id: int) -> None:
        """A player leaves before the start: free the seat, pass the host on, or close."""
        if hosted.game.is_started or not hosted.is_player(user_id):
            return
        if hosted.unseat(user_id):
            self.close(hosted)
            return
        self._touch_seats(hosted)

    def close(self, hosted: Room) -> None:
        code = hosted.game_code
        if code is not None and self.by_code.get(code) is hosted:
            del self.by_code[code]
            self._written.pop(code, None)
            self._tasks.spawn(self._db.delete_lobby(code), "delete lobby")
        hosted.dispose()

    # --- host only -----------------------------------------------------------------------
    def _require_host(self, hosted: Room, user_id: int, action: str) -> None:
        if hosted.game.host_user_id != user_id:
            raise LobbyRefused(f"only the host may {action}")
        if hosted.game.is_started or hosted.finished:
            raise LobbyRefused("the game has already started")

    def update_settings(self, hosted: Room, user_id: int, patch: protocol.CustomGameSettingsPatch) -> None:
        self._require_host(hosted, user_id, "change the settings")
        settings = patch.apply_to(_settings_of(hosted.game))
        reason = settings.validate()
        if reason is not None:
            raise LobbyRefused(reason)
        # The seats the new settings give, game_mode included (Solo seats one, Duel two),
        # checked before anything changes.
        seated, seats = hosted.game.player_count, settings.seats()
        too_few = f"{seated} players are already in the lobby; these settings seat {seats}"
        if seated > seats:
            raise LobbyRefused(too_few)
        try:
            hosted.relayout(settings)
        except GameFull:  # the room stays as it was: relayout seats everyone before it switches
            raise LobbyRefused(too_few) from None
        self._touch(hosted, settings=settings)

    def start(self, hosted: Room, user_id: int) -> None:
        self._require_host(hosted, user_id, "start the game")
        try:
            hosted.start(self._clock_ms(), announce=_STARTING)
        except NotEnoughPlayers as exc:
            raise LobbyRefused(exc.reason) from None
        self._record_start(hosted)

    def room_disposed(self, room_id: int, game_code: str | None) -> None:
        """The code finds the finished game while the host keeps it (late joiners get its
        final state), and nothing after: codes of past games must not pile up here."""
        hosted = self.by_code.get(game_code) if game_code is not None else None
        if game_code is not None and hosted is not None and hosted.game_id == room_id:
            del self.by_code[game_code]

    # --- persistence -----------------------------------------------------------------------
    def _far_off(self, expires_at_ms: int) -> bool:
        """More than half a TTL away: no write is needed yet to keep the lobby alive."""
        return expires_at_ms - self._clock_ms() > self._settings.lobby_ttl_seconds * 500

    def _touch_seats(self, hosted: Room) -> None:
        """After a join or a leave. The lobby item holds no seats, so it is written only
        when the host changed or its expiry is less than half a TTL away: a duel lobby
        then costs its creation and its start, not a write per player as well."""
        written = self._written.get(hosted.game_code) if hosted.game_code is not None else None
        if (
            written is not None
            and written.host_user_id == hosted.game.host_user_id
            and self._far_off(written.expires_at_ms)
        ):
            return
        self._touch(hosted)

    def _record_start(self, hosted: Room) -> None:
        """Write the lobby as started, with its code claim: as two whole-item puts on the
        batch writer when the code is surely ours, else as `update_lobby`'s conditional
        transaction. The puts ride in a BatchWriteItem with whatever else is queued and
        cost half the write capacity (and a fraction of the CPU) of the transaction.

        Why the puts are safe. A put has no condition, so it could take a code another
        lobby claimed after ours expired. A claim cannot be taken while its ttl is in the
        future, and `durable_until_ms` is the expiry of a write known to have landed;
        writes in flight or failed do not count (a failed one drops the lobby from
        `_written`). Half a TTL (30 minutes by default) is far beyond any delay of the
        batch writer or of an older write retried after a newer one landed. What is left
        is a partition longer than that, or a sweeper freeing the code of a server it
        thought dead, each followed by another lobby drawing the very same random code.

        Order. An `update_lobby` of an earlier join, leave or settings change may land
        after the puts. It sets only the expiry (about the same), the host and the
        settings (those it carries are the latest: neither changes after the start),
        never the state or the claim's status, so "started" stays. After the start
        nothing else writes the lobby: joins, leaves and settings refuse a started game,
        and `close` only runs before the start (`_written` is dropped here either way)."""
        code = hosted.game_code
        if code is None:
            return
        written = self._written.pop(code, None)  # seats are fixed from now on
        if written is None or not self._far_off(written.durable_until_ms):
            self._touch(hosted, state="started")
            return
        assert hosted.game.host_user_id is not None, "a lobby always has a host"
        lobby = LobbyRecord(
            game_code=code,
            game_id=hosted.game_id,
            host_user_id=hosted.game.host_user_id,
            settings=_to_wire(_settings_of(hosted.game)),
            state="started",
            server_id=self._rooms.server_id,
            created_at_ms=hosted.created_at_ms,
            expires_at_ms=self._clock_ms() + self._settings.lobby_ttl_seconds * 1000,
        )
        try:
            durable = self._db.put_lobby_nowait(lobby, is_private=hosted.is_private)
        except DatabaseError as exc:  # the writer is closed: the server is stopping
            log.warning("lobby start not saved", code=code, error=str(exc))
            return
        durable.add_done_callback(lambda future: _warn_if_failed(future, code))

    def _touch(self, hosted: Room, **fields: object) -> None:
        """Push the lobby's expiry out (and record what changed), off the request path."""
        code = hosted.game_code
        if code is None:
            return
        fields["host_user_id"] = hosted.game.host_user_id
        written = self._written.get(code)
        if written is not None:
            written.host_user_id = hosted.game.host_user_id
            written.expires_at_ms = self._clock_ms() + self._settings.lobby_ttl_seconds * 1000
        if "settings" in fields:
            fields["settings"] = _to_wire(fields["settings"])
        self._tasks.spawn(self._update_lobby(code, hosted.game_id, fields, written), "update lobby")

    async def _update_lobby(
        self, code: str, game_id: int, fields: dict[str, object], written: LobbyWrites | None
    ) -> None:
        now_ms = self._clock_ms()
        try:
            claimed = await self._db.update_lobby(
                code,
                now_ms=now_ms,
                ttl_seconds=self._settings.lobby_ttl_seconds,
                owner_game_id=game_id,
                **fields,
            )
        except NotFound:
            self._forget_writes(code, written)  # closed or expired meanwhile
            return
        except DatabaseError as exc:
            log.warning("lobby update not saved", code=code, error=str(exc))
            self._forget_writes(code, written)
            return
        if not claimed:  # the lobby item was live, yet the code claim is another game's
            self._forget_writes(code, written)
        elif written is not None:
            expires_at_ms = now_ms + self._settings.lobby_ttl_seconds * 1000
            written.durable_until_ms = max(written.durable_until_ms, expires_at_ms)

    def _forget_writes(self, code: str, written: LobbyWrites | None) -> None:
        """After a failed write the stored host and expiry are unknown: write conditionally."""
        if written is not None and self._written.get(code) is written:
            del self._written[code]


_STARTING = protocol.encode_server_message(protocol.CustomGameStarting())


def _warn_if_failed(future: asyncio.Future[object], code: str) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("lobby start not saved", code=code, error=str(future.exception()))


def _to_wire(settings: object) -> dict:
    return msgspec.to_builtins(settings)


def _settings_of(game: Game) -> CustomGameSettings:
    """The settings of a lobby's game, which is always a custom game."""
    game_type = game.game_type
    assert isinstance(game_type, GameTypeObject) and game_type.Custom is not None, "a lobby hosts custom games only"
    return game_type.Custom.settings
