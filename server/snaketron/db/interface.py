"""The `Database` protocol: every access pattern of the data layer, one method each.

The server codes against this protocol only; `snaketron.db.dynamo.DynamoDatabase`
implements it on DynamoDB (AWS, LocalStack or the embedded endpoint alike).
Every method raises only `snaketron.db.errors` types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from snaketron.db.models import (
    DatabaseHealth,
    GamePlayerRecord,
    GameRecord,
    GameStatusName,
    GameWithMembers,
    Lease,
    LobbyRecord,
    MatchTicket,
    Page,
    RatingUpdate,
    ServerRecord,
    ServerStatus,
    SpectatorRecord,
    UserRecord,
)

# DynamoDB's limit on the items of one TransactWriteItems.
MAX_TRANSACTION_ACTIONS = 100


class Database(Protocol):
    # --- lifecycle -------------------------------------------------------------
    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the tables answer (health checks)."""

    def health(self) -> DatabaseHealth:
        """Which endpoint, and what happened to it (restarts of the embedded one)."""

    async def flush(self) -> None:
        """Wait until everything handed to the batch writer is durable."""

    async def close_writer(self, timeout_s: float) -> list[str]:
        """Flush the batch writer for at most `timeout_s`, then stop it (the shutdown's last
        writes). Returns the keys of the writes it had to drop: empty when all are durable."""

    async def close(self) -> None:
        """Flush the batch writer, then release the client."""

    # --- ids -------------------------------------------------------------------
    async def next_id(self, entity: str) -> int:
        """A fresh id for `entity` ("user", "game", "server"), unique across processes
        and restarts. Ids are reserved from the COUNTER item in blocks."""

    # --- servers ---------------------------------------------------------------
    async def register_server(self, server: ServerRecord) -> None: ...

    async def heartbeat_server(
        self, server_id: int, region: str, *, game_count: int, player_count: int, now_ms: int
    ) -> None: ...

    async def set_server_status(self, server_id: int, status: ServerStatus) -> None: ...

    async def get_server(self, server_id: int) -> ServerRecord:
        """Raise NotFound when unknown or expired."""

    async def list_live_servers(self, region: str, *, now_ms: int, freshness_ms: int) -> list[ServerRecord]:
        """Servers of `region` whose heartbeat is newer than now - freshness (one GSI2 query),
        of every status; callers filter on `status`."""

    # --- users -----------------------------------------------------------------
    async def create_user(self, username: str, password_hash: str, *, mmr: int = 1000, now_ms: int) -> UserRecord:
        """Claim the lower-cased name and create the user in one transaction.
        Raise UsernameTaken when the name is held (any letter case)."""

    async def get_user(self, user_id: int) -> UserRecord:
        """Raise NotFound."""

    async def get_user_by_username(self, username: str) -> UserRecord:
        """Case-insensitive. Raise NotFound."""

    async def update_password_hash(self, user_id: int, username: str, password_hash: str) -> None:
        """Rehash on login (bcrypt -> argon2): user item and usernames copy together."""

    async def revoke_tokens(self, user: UserRecord, *, password_hash: str | None = None) -> int:
        """Raise the user's token generation by one (and set a new password hash, when
        given, on the user item and the usernames copy together); returns the new
        generation. Raise NotFound when the user is gone or its generation is no longer
        `user.token_generation` (a concurrent change: read again and retry)."""

    async def update_ratings(self, updates: Sequence[RatingUpdate]) -> None:
        """New ratings for the players of one game: user items and usernames copies in
        one transaction."""

    # --- games -----------------------------------------------------------------
    async def get_game(self, game_id: int) -> GameWithMembers:
        """Game, players and spectators in one query on pk. Raise NotFound."""

    async def update_game_status(self, game_id: int, status: GameStatusName, *, now_ms: int, **fields: Any) -> None:
        """Set status (the GSI1 sort key follows it) and optional GameRecord fields
        (started_at_ms, ended_at_ms, final_tick, winning_snake_id, winner_user_id)."""

    def save_game_nowait(self, game: GameRecord, players: Sequence[GamePlayerRecord] = ()) -> asyncio.Future[Any]:
        """Queue full-item puts of the game and its player rows on the batch writer without
        waiting (the game host's writes: never on the tick path's clock). The future
        resolves once all are durable."""

    def delete_game_rows_nowait(
        self, game_id: int, *, game: bool, player_ids: Sequence[int] = (), spectator_ids: Sequence[int] = ()
    ) -> asyncio.Future[Any]:
        """Queue Deletes on the batch writer, after any write of those keys queued before
        them: the game item (`game`), these players' rows and these spectators' rows. A
        lobby's seat given up, or a lobby closed before its start. The future resolves once
        all are gone."""

    async def list_games_by_status(
        self, status: GameStatusName, *, limit: int = 100, cursor: str | None = None
    ) -> Page:
        """GameRecords of one status, newest first, paginated (GSI1)."""

    async def list_games_of_server(self, server_id: int, statuses: Sequence[GameStatusName]) -> list[GameRecord]:
        """Unfinished games hosted by a server (for abandoning a dead server's games)."""

    async def record_result(
        self, game: GameRecord, players: Sequence[GamePlayerRecord], ratings: Sequence[RatingUpdate] = ()
    ) -> None:
        """The finished game item, its players' results and (matchmade) new ratings, in
        one call: a finished room's only write (`GameRecorder.record_result`), so what a
        result and its ratings say never depends on the order of callbacks."""

    # --- custom lobbies --------------------------------------------------------
    async def create_lobby(self, lobby: LobbyRecord, *, is_private: bool) -> None:
        """LOBBY#code item and the game-codes claim in one transaction, both with ttl.
        Raise GameCodeTaken when the code is live."""

    async def get_lobby(self, game_code: str, *, now_ms: int) -> LobbyRecord:
        """Raise NotFound when unknown or expired."""

    async def update_lobby(
        self, game_code: str, *, now_ms: int, ttl_seconds: int, owner_game_id: int | None = None, **fields: Any
    ) -> bool:
        """Change host_user_id / settings / state and push the expiry out, on the lobby
        and its code claim. With `owner_game_id` (the game the caller knows the code
        belongs to) both are written in one transaction: one request instead of two.
        Raise NotFound when the lobby is gone or expired; return whether the claim was
        written too (False: it belongs to another game and was left alone)."""

    def put_lobby_nowait(self, lobby: LobbyRecord, *, is_private: bool) -> asyncio.Future[Any]:
        """Overwrite the lobby item and its code claim (status = `lobby.state`, ttl =
        its expiry) with whole items through the batch writer, unconditionally. Only
        for a caller sure the code stays its own until they land. Never blocks; the
        future resolves once both are durable."""

    async def delete_lobby(self, game_code: str) -> None:
        """Remove the lobby and release its code."""

    async def get_game_code(self, game_code: str, *, now_ms: int) -> dict[str, Any]:
        """The game-codes item: {"gameCode", "gameId", "isPrivate", "status"}. Raise NotFound."""

    # --- spectators --------------------------------------------------------------
    def add_spectator_nowait(self, spectator: SpectatorRecord) -> asyncio.Future[None]:
        """Put the spectator row (idempotent) on the batch writer without waiting (game
        hosting); the future resolves once it is durable."""

    async def list_spectators(self, game_id: int) -> list[SpectatorRecord]: ...

    # --- leases (cluster-wide singletons) ----------------------------------------
    async def acquire_lease(self, name: str, owner: str, *, now_ms: int, duration_ms: int) -> Lease:
        """Take or renew the lease when free, expired or already ours. Raise LeaseHeld."""

    async def release_lease(self, name: str, owner: str) -> None: ...

    # --- match tickets -----------------------------------------------------------
    async def put_ticket(self, ticket: MatchTicket, *, ttl_seconds: int) -> None:
        """Enqueue (replacing this user's older ticket of the same queue is the caller's job)."""

    async def delete_ticket(self, ticket: MatchTicket) -> None: ...

    async def release_tickets(self, tickets: Sequence[MatchTicket], game_id: int) -> list[int]:
        """Give claimed tickets back to the queue: each loses its match only while it is
        still matched to `game_id` (a withdrawn player's deleted ticket stays deleted).
        Returns the user ids whose tickets were released."""

    async def claim_matches(self, claims: Sequence[tuple[Sequence[MatchTicket], int]]) -> None:
        """Mark every match's tickets matched to its game id (tickets, game id), each
        conditional on being unmatched, in one transaction (at most
        MAX_TRANSACTION_ACTIONS tickets in all): every match is claimed, or none is. Raise
        TicketAlreadyClaimed with the user ids whose tickets were lost."""

    async def list_region_tickets(self, region: str, *, now_ms: int) -> list[MatchTicket]:
        """Every unexpired ticket of every queue of a region, matched or not, in one query
        (GSI1, so eventually consistent: claims are conditional, a stale read only costs a
        retry). The matcher's round and each server's delivery poll read this."""
