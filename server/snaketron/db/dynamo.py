"""`DynamoDatabase`: the `Database` protocol on DynamoDB (AWS, LocalStack, embedded).

Every method is one access pattern of docs/DATA_MODEL.md. Item shapes live in
`items.py`, requests go through `DynamoClient.call` (retries, error mapping), and
the hot-path writes (players, spectators, results, tickets) go through the
`BatchWriter`. Reads that meet a `ttl` treat `ttl <= now` as absent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from snaketron.config import Settings
from snaketron.db import items as shapes
from snaketron.db.batch_writer import BatchWriter
from snaketron.db.client import DbMetrics, DynamoClient
from snaketron.db.codec import from_item, to_attr, to_item
from snaketron.db.errors import (
    Conflict,
    DatabaseError,
    GameCodeTaken,
    InvalidRequest,
    LeaseHeld,
    NotFound,
    RatingConflict,
    TicketAlreadyClaimed,
    TransactionCancelled,
    UsernameTaken,
)
from snaketron.db.ids import IdAllocator
from snaketron.db.interface import MAX_TRANSACTION_ACTIONS
from snaketron.db.models import (
    DatabaseHealth,
    DatabaseState,
    EndpointKind,
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
from snaketron.db.retry import RetryPolicy
from snaketron.db.tables import TableNames, ensure_tables

TERMINAL_STATUSES = ("complete", "abandoned")


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class _Update:
    """Builds one UpdateItem/Update action: SET of plain values, placeholders for
    every name (many of ours are reserved words: status, region, ttl, state...)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._sets: list[str] = []

    def name(self, attribute: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = to_attr(value)
        return placeholder

    def set(self, attribute: str, value: Any) -> _Update:
        self._sets.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def params(self, table: str, key: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "TableName": table,
            "Key": to_item(key),
            "UpdateExpression": "SET " + ", ".join(self._sets),
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }
        if condition:
            params["ConditionExpression"] = condition
        return params


# See DynamoDatabase.query_page_limit.
QUERY_PAGE_ITEMS = 250
# See DynamoDatabase.ticket_page_limit.
TICKET_PAGE_ITEMS = 1_000


class DynamoDatabase:
    """Owns the client and the batch writer it is given; `close()` flushes, then closes both."""

    def __init__(
        self,
        client: DynamoClient,
        settings: Settings,
        *,
        clock: Callable[[], int] = wall_clock_ms,
        embedded: bool = False,
    ) -> None:
        self.client = client
        self.settings = settings
        self.tables = TableNames.for_prefix(settings.table_prefix)
        self._clock = clock
        self.writer = BatchWriter(
            client,
            self.tables.key_names(),
            flush_ms=settings.batch_flush_ms,
            max_in_flight=settings.batch_max_in_flight,
            buffer_items=settings.batch_buffer_items,
            policy=RetryPolicy.from_settings(settings),
        )
        self._ids = IdAllocator(client, self.tables.main, settings.id_block_size)
        endpoint: EndpointKind = "embedded" if embedded else "configured" if client.endpoint_url else "aws"
        self._health = DatabaseHealth(endpoint=endpoint)

    @property
    def metrics(self) -> DbMetrics:
        return self.client.metrics

    # --- lifecycle ----------------------------------------------------------------------

    async def ping(self) -> None:
        await self.client.call("get_item", TableName=self.tables.main, Key=to_item({"pk": "PING", "sk": "PING"}))

    def health(self) -> DatabaseHealth:
        return self._health

    def set_state(self, state: DatabaseState) -> None:
        """The embedded endpoint's supervisor reports here: "restarting" when it died,
        "ok" once it answers again with its tables (its data lost), "unavailable"."""
        was_restarting = self._health.state != "ok"
        self._health.state = state
        if state == "ok" and was_restarting:
            self._health.restarts += 1
            self._health.data_lost_at_ms = self._clock()

    async def recreate_after_data_loss(self) -> None:
        """The endpoint came back empty: create the tables again, and raise the id
        counters past every id this process handed out, so that no new user, game or
        server takes an id that a live game or a token still carries."""
        await ensure_tables(self.client, self.settings.table_prefix)
        await self._ids.restore_counters()

    async def flush(self) -> None:
        await self.writer.flush()

    async def close_writer(self, timeout_s: float) -> list[str]:
        return await self.writer.close(timeout_s=timeout_s)

    async def close(self) -> None:
        try:
            await self.writer.close(timeout_s=max(self.settings.db_deadline_ms / 1000.0, 1.0) * 3)
        finally:
            await self.client.close()

    # --- ids -------------------------------------------------------------------------------

    async def next_id(self, entity: str) -> int:
        return await self._ids.next_id(entity)

    # --- small helpers -----------------------------------------------------------------

    async def _get(self, table: str, key: dict[str, Any], *, now_ms: int | None = None) -> dict[str, Any]:
        response = await self.client.call("get_item", TableName=table, Key=to_item(key), ConsistentRead=True)
        raw = response.get("Item")
        if raw is None:
            raise NotFound(f"{table}: {key}")
        item = from_item(raw)
        if shapes.expired(item, self._clock() if now_ms is None else now_ms):
            raise NotFound(f"{table}: {key} (expired)")
        return item

    # Items per Query page. The SDK parses a whole page synchronously, and a 1 MB page of
    # a busy region's match queue (a thousand tickets and more) held the event loop for
    # 100-150 ms, every game on the host ticking late; a page this size parses in a few
    # tens of milliseconds and the loop runs between pages. Read capacity is charged by
    # the bytes read, not per page. Tests set it small to prove that every listing
    # follows LastEvaluatedKey to the end.
    query_page_limit: int | None = QUERY_PAGE_ITEMS

    # Items per page of the region's match queue. The matcher reads it every round, and
    # each page is one more request queued at the endpoint (the embedded one also
    # filters its whole table once per index page): at 1,000 duel bots a round's read
    # of 3-4 pages took 1-4 s. On the lean data plane a page this size decodes and
    # parses in about 9 ms (1,000 tickets, 440 kB; 2026-12-07), well within a tick.
    ticket_page_limit: int | None = TICKET_PAGE_ITEMS

    async def _query_all(self, *, page_limit: int | None = None, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        limit = page_limit or self.query_page_limit
        if limit:
            params["Limit"] = limit
        while True:
            response = await self.client.call("query", **params)
            found.extend(from_item(i) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return found
            params["ExclusiveStartKey"] = last

    async def _transact(self, actions: list[dict[str, Any]]) -> None:
        if len(actions) > MAX_TRANSACTION_ACTIONS:
            raise InvalidRequest(f"transaction of {len(actions)} actions (max {MAX_TRANSACTION_ACTIONS})")
        await self.client.call("transact_write_items", TransactItems=actions)

    async def _put_durably(self, table: str, records: Sequence[dict[str, Any]]) -> None:
        futures = [await self.writer.put(table, to_item(r)) for r in records]
        if futures:
            await asyncio.gather(*futures)

    # --- servers ---------------------------------------------------------------------------

    async def register_server(self, server: ServerRecord) -> None:
        await self.client.call("put_item", TableName=self.tables.main, Item=to_item(shapes.server_item(server)))

    async def heartbeat_server(
        self, server_id: int, region: str, *, game_count: int, player_count: int, now_ms: int
    ) -> None:
        update = (
            _Update()
            .set("lastHeartbeat", now_ms)
            .set("region", region)
            .set("gsi2pk", region)
            .set("gsi2sk", shapes.heartbeat_sk(now_ms, server_id))
            .set("currentGameCount", game_count)
            .set("currentPlayerCount", player_count)
            .set("ttl", now_ms // 1000 + shapes.SERVER_TTL_SECONDS)
        )
        params = update.params(self.tables.main, shapes.server_key(server_id), "attribute_exists(pk)")
        try:
            await self.client.call("update_item", **params)
        except Conflict:
            raise NotFound(f"server {server_id} is not registered") from None

    async def set_server_status(self, server_id: int, status: ServerStatus) -> None:
        params = (
            _Update()
            .set("status", status)
            .params(self.tables.main, shapes.server_key(server_id), "attribute_exists(pk)")
        )
        try:
            await self.client.call("update_item", **params)
        except Conflict:
            raise NotFound(f"server {server_id} is not registered") from None

    async def get_server(self, server_id: int) -> ServerRecord:
        return shapes.server_from_item(await self._get(self.tables.main, shapes.server_key(server_id)))

    async def list_live_servers(self, region: str, *, now_ms: int, freshness_ms: int) -> list[ServerRecord]:
        found = await self._query_all(
            TableName=self.tables.main,
            IndexName="GSI2",
            KeyConditionExpression="gsi2pk = :region AND gsi2sk > :since",
            ExpressionAttributeValues={
                ":region": to_attr(region),
                ":since": to_attr(shapes.iso_ms(now_ms - freshness_ms)),
            },
        )
        return [shapes.server_from_item(i) for i in found if not shapes.expired(i, now_ms)]

    # --- users -----------------------------------------------------------------------------

    async def create_user(self, username: str, password_hash: str, *, mmr: int = 1000, now_ms: int) -> UserRecord:
        user = UserRecord(
            user_id=await self.next_id("user"),
            username=username,
            password_hash=password_hash,
            mmr=mmr,
            created_at_ms=now_ms,
        )
        try:
            await self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.tables.usernames,
                            "Item": to_item(shapes.username_item(user)),
                            "ConditionExpression": "attribute_not_exists(username)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.tables.main,
                            "Item": to_item(shapes.user_item(user)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except TransactionCancelled as exc:
            if 0 not in exc.failed():
                raise
            if not await self._claim_is(self.tables.usernames, {"username": username.lower()}, "userId", user.user_id):
                # Nothing was written with the id: hand it back, so that a refused
                # registration leaves no gap (the API checks the name first, too).
                self._ids.give_back("user", user.user_id)
                raise UsernameTaken(f"username {username!r} is taken") from None
        return user

    async def _claim_is(self, table: str, key: dict[str, Any], attribute: str, ours: Any) -> bool:
        """After a conditional write lost: is the item ours after all? A retry whose first
        attempt succeeded but whose answer was lost (a dropped connection) fails its own
        condition; the endpoint may not honour ClientRequestToken, so look."""
        response = await self.client.call("get_item", TableName=table, Key=to_item(key), ConsistentRead=True)
        return bool(from_item(response.get("Item", {})).get(attribute) == ours)

    async def get_user(self, user_id: int) -> UserRecord:
        return shapes.user_from_item(await self._get(self.tables.main, shapes.user_key(user_id)))

    async def get_user_by_username(self, username: str) -> UserRecord:
        claim = await self._get(self.tables.usernames, {"username": username.lower()})
        return await self.get_user(claim["userId"])

    async def update_password_hash(self, user_id: int, username: str, password_hash: str) -> None:
        user = _Update().set("passwordHash", password_hash)
        claim = _Update().set("passwordHash", password_hash)
        claim_condition = f"{claim.name('userId')} = {claim.value(user_id)}"
        try:
            await self._transact(
                [
                    {"Update": user.params(self.tables.main, shapes.user_key(user_id), "attribute_exists(pk)")},
                    {"Update": claim.params(self.tables.usernames, {"username": username.lower()}, claim_condition)},
                ]
            )
        except TransactionCancelled:
            raise NotFound(f"user {user_id} / {username!r}") from None

    async def revoke_tokens(self, user: UserRecord, *, password_hash: str | None = None) -> int:
        generation = user.token_generation + 1
        update = _Update().set("tokenGen", generation)
        if password_hash is not None:
            update.set("passwordHash", password_hash)
        gen = update.name("tokenGen")
        old = update.value(user.token_generation)
        condition = f"attribute_exists(pk) AND (attribute_not_exists({gen}) OR {gen} = {old})"
        actions = [{"Update": update.params(self.tables.main, shapes.user_key(user.user_id), condition)}]
        if password_hash is not None:
            claim = _Update().set("passwordHash", password_hash)
            claim_condition = f"{claim.name('userId')} = {claim.value(user.user_id)}"
            actions.append(
                {"Update": claim.params(self.tables.usernames, {"username": user.username.lower()}, claim_condition)}
            )
        try:
            await self._transact(actions)
        except TransactionCancelled:
            raise NotFound(f"user {user.user_id} at generation {user.token_generation}") from None
        return generation

    async def update_ratings(self, updates: Sequence[RatingUpdate]) -> None:
        if not updates:
            return
        try:
            await self._transact(self.rating_actions(updates))
        except TransactionCancelled as exc:
            error = self.rating_refused(updates, exc.failed())
            if isinstance(error, RatingConflict) and await self.ratings_are(updates):
                return  # a retry whose first attempt landed (its answer lost) fails its guard
            raise error from None

    async def ratings_are(self, updates: Sequence[RatingUpdate]) -> bool:
        """Do the users' items hold exactly these new ratings already? (A retried rating
        write whose first attempt landed fails its own guard.)"""
        for u in updates:
            stored = await self.get_user(u.user_id)
            if (stored.games_played, stored.mmr, stored.rating_mu, stored.rating_sigma) != (
                u.games_played,
                u.mmr,
                u.rating_mu,
                u.rating_sigma,
            ):
                return False
        return True

    def rating_actions(self, updates: Sequence[RatingUpdate]) -> list[dict[str, Any]]:
        """The transaction actions of `update_ratings`: two per user (the user item, guarded
        on the gamesPlayed, ratingMu and ratingSigma its rating was computed from, and the name claim's mmr); the
        result's write puts them in the leaderboard's transaction (persistence.py)."""
        if len(updates) * 2 > MAX_TRANSACTION_ACTIONS:
            raise InvalidRequest(f"{len(updates)} rating updates exceed one transaction")
        actions = []
        for u in updates:
            user = (
                _Update()
                .set("mmr", u.mmr)
                .set("ratingMu", u.rating_mu)
                .set("ratingSigma", u.rating_sigma)
                .set("gamesPlayed", u.games_played)
            )
            if u.rating_season is not None:
                user.set("ratingSeason", u.rating_season)
            condition = "attribute_exists(pk)"
            if u.games_played_before is not None:
                played, before = user.name("gamesPlayed"), user.value(u.games_played_before)
                guard = f"{played} = {before}"
                if u.games_played_before == 0:  # an account that never played may lack it
                    guard = f"({guard} OR attribute_not_exists({played}))"
                elif u.rating_mu_before is not None and u.rating_sigma_before is not None:
                    # A user migrated without a rating state has no ratingMu to compare.
                    mu, mu_before = user.name("ratingMu"), user.value(u.rating_mu_before)
                    sigma, sigma_before = user.name("ratingSigma"), user.value(u.rating_sigma_before)
                    state = f"{mu} = {mu_before} AND {sigma} = {sigma_before}"
                    guard = f"{guard} AND (({state}) OR attribute_not_exists({mu}))"
                condition = f"{condition} AND {guard}"
            claim = _Update().set("mmr", u.mmr)
            claim_condition = f"{claim.name('userId')} = {claim.value(u.user_id)}"
            actions.append({"Update": user.params(self.tables.main, shapes.user_key(u.user_id), condition)})
            actions.append(
                {"Update": claim.params(self.tables.usernames, {"username": u.username.lower()}, claim_condition)}
            )
        return actions

    def row_actions(
        self, game: GameRecord, players: Sequence[GamePlayerRecord], items: Sequence[dict[str, Any]] = ()
    ) -> list[dict[str, Any]] | None:
        """Transaction Puts of a finished game's item, its player rows and `items` (typed
        items of the main table, e.g. its replay piece), for the result's transaction;
        None when the batch writer still holds an earlier write of one of them (that one
        must land first: the result then goes through the batch writer too)."""
        table = self.tables.main
        typed = [to_item(shapes.game_item(game)), *(to_item(shapes.player_item(p)) for p in players), *items]
        if any(self.writer.holds(table, item) for item in typed):
            return None
        return [{"Put": {"TableName": table, "Item": item}} for item in typed]

    @staticmethod
    def rating_refused(updates: Sequence[RatingUpdate], failed: Sequence[int]) -> DatabaseError:
        """The error for `rating_actions` whose transaction failed at `failed` (indexes):
        RatingConflict naming the users whose guarded rating moved on (they may also be
        gone: the re-read tells), else NotFound."""
        stale = sorted(
            {updates[i // 2].user_id for i in failed if i % 2 == 0 and updates[i // 2].games_played_before is not None}
        )
        if stale:
            return RatingConflict(f"ratings of users {stale} changed meanwhile", tuple(stale))
        missing = sorted({updates[i // 2].user_id for i in failed})
        return NotFound(f"rating update for unknown users {missing}")

    # --- games -----------------------------------------------------------------------------

    def _code_claim(
        self, game_code: str, game_id: int, *, is_private: bool, status: str, now_ms: int
    ) -> dict[str, Any]:
        """A conditional Put of the game-codes item: free, expired, or already this game's."""
        ttl = now_ms // 1000 + self.settings.lobby_ttl_seconds
        return {
            "Put": {
                "TableName": self.tables.game_codes,
                "Item": to_item(
                    shapes.game_code_item(game_code, game_id, is_private=is_private, status=status, ttl=ttl)
                ),
                "ConditionExpression": "attribute_not_exists(gameCode) OR #ttl <= :now OR gameId = :gid",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": {":now": to_attr(now_ms // 1000), ":gid": to_attr(str(game_id))},
            }
        }

    async def get_game(self, game_id: int) -> GameWithMembers:
        game, _ = shapes.game_with_members_from_items(await self.read_game_partition(game_id))
        if game is None:
            raise NotFound(f"game {game_id}")
        return game

    async def read_game_partition(self, game_id: int) -> list[dict[str, Any]]:
        """Every item under `GAME#<id>` (game, players, spectators, replay pieces), one
        strongly consistent Query (more pages only for a replay past 1 MB)."""
        return await self._query_all(
            TableName=self.tables.main,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": to_attr(shapes.game_pk(game_id))},
            ConsistentRead=True,
        )

    async def update_game_status(self, game_id: int, status: GameStatusName, *, now_ms: int, **fields: Any) -> None:
        update = (
            _Update()
            .set("status", status)
            .set("gsi1sk", shapes.game_status_sk(status, now_ms))
            .set("updatedAt", now_ms)
        )
        for name, value in fields.items():
            attribute = shapes.game_field_attribute(name)
            if attribute is None:
                raise InvalidRequest(f"update_game_status cannot set {name!r}")
            update.set(attribute, value)
        params = update.params(self.tables.main, shapes.game_key(game_id), "attribute_exists(pk)")
        try:
            response = await self.client.call("update_item", ReturnValues="ALL_NEW", **params)
        except Conflict:
            raise NotFound(f"game {game_id}") from None
        code = response.get("Attributes", {}).get("gameCode", {}).get("S")
        if code:
            await self._set_code_status(code, game_id, status)

    async def _set_code_status(self, game_code: str, game_id: int, status: str) -> None:
        """Keep the game-codes copy of the status current. The claim itself stays until
        its ttl, so a finished game's code is not handed to another game at once."""
        update = _Update().set("status", status)
        condition = f"{update.name('gameId')} = {update.value(str(game_id))}"
        try:
            await self.client.call(
                "update_item", **update.params(self.tables.game_codes, {"gameCode": game_code}, condition)
            )
        except Conflict:
            pass  # the code now belongs to someone else (or expired): nothing of ours to update

    async def list_games_by_status(
        self, status: GameStatusName, *, limit: int = 100, cursor: str | None = None
    ) -> Page:
        params: dict[str, Any] = {
            "TableName": self.tables.main,
            "IndexName": "GSI1",
            "KeyConditionExpression": "gsi1pk = :kind AND begins_with(gsi1sk, :status)",
            "ExpressionAttributeValues": {":kind": to_attr("GAME"), ":status": to_attr(f"{status}#")},
            "ScanIndexForward": False,
            "Limit": max(1, limit),
        }
        if cursor:
            params["ExclusiveStartKey"] = _decode_cursor(cursor)
        response = await self.client.call("query", **params)
        games = [shapes.game_from_item(from_item(i)) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(items=games, cursor=_encode_cursor(last) if last else None)

    async def list_games_of_server(self, server_id: int, statuses: Sequence[GameStatusName]) -> list[GameRecord]:
        games: list[GameRecord] = []
        for status in statuses:
            found = await self._query_all(
                TableName=self.tables.main,
                IndexName="GSI1",
                KeyConditionExpression="gsi1pk = :kind AND begins_with(gsi1sk, :status)",
                FilterExpression="serverId = :sid",
                ExpressionAttributeValues={
                    ":kind": to_attr("GAME"),
                    ":status": to_attr(f"{status}#"),
                    ":sid": to_attr(server_id),
                },
            )
            games.extend(shapes.game_from_item(i) for i in found)
        return games

    async def record_result(
        self, game: GameRecord, players: Sequence[GamePlayerRecord], ratings: Sequence[RatingUpdate] = ()
    ) -> None:
        # The code claim's status is left as the lobby's start wrote it ("started"): nothing
        # serving reads it, and rewriting it would cost a request per finished lobby game.
        rows = [shapes.game_item(game), *(shapes.player_item(p) for p in players)]
        await asyncio.gather(self._put_durably(self.tables.main, rows), self.update_ratings(ratings))

    # --- custom lobbies ------------------------------------------------------------------

    async def create_lobby(self, lobby: LobbyRecord, *, is_private: bool) -> None:
        now_ms = lobby.created_at_ms or self._clock()
        if not lobby.expires_at_ms:
            lobby = LobbyRecord(
                **{f: getattr(lobby, f) for f in lobby.__struct_fields__ if f != "expires_at_ms"},
                expires_at_ms=now_ms + self.settings.lobby_ttl_seconds * 1000,
            )
        claim = self._code_claim(lobby.game_code, lobby.game_id, is_private=is_private, status="waiting", now_ms=now_ms)
        claim["Put"]["Item"]["ttl"] = to_attr(lobby.expires_at_ms // 1000)
        try:
            await self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.tables.main,
                            "Item": to_item(shapes.lobby_item(lobby)),
                            "ConditionExpression": "attribute_not_exists(pk) OR #ttl <= :now",
                            "ExpressionAttributeNames": {"#ttl": "ttl"},
                            "ExpressionAttributeValues": {":now": to_attr(now_ms // 1000)},
                        }
                    },
                    claim,
                ]
            )
        except TransactionCancelled as exc:
            if exc.invalid():
                # The items themselves were refused (a setting DynamoDB cannot store): no
                # collision, and another code would be refused the same way.
                raise InvalidRequest(f"create_lobby: the lobby was refused as invalid: {exc}") from None
            if exc.reasons and not exc.failed():
                raise  # no condition failed: neither a collision nor our own earlier attempt
            if not await self._claim_is(
                self.tables.game_codes, {"gameCode": lobby.game_code}, "gameId", str(lobby.game_id)
            ):
                raise GameCodeTaken(f"game code {lobby.game_code!r} is taken") from None
            if not await self._claim_is(self.tables.main, shapes.lobby_key(lobby.game_code), "gameId", lobby.game_id):
                raise GameCodeTaken(f"game code {lobby.game_code!r} is taken") from None

    async def get_lobby(self, game_code: str, *, now_ms: int) -> LobbyRecord:
        return shapes.lobby_from_item(await self._get(self.tables.main, shapes.lobby_key(game_code), now_ms=now_ms))

    async def update_lobby(
        self, game_code: str, *, now_ms: int, ttl_seconds: int, owner_game_id: int | None = None, **fields: Any
    ) -> bool:
        expires_ms = now_ms + ttl_seconds * 1000
        update = _Update().set("expiresAt", expires_ms).set("ttl", expires_ms // 1000)
        for name, value in fields.items():
            attribute = shapes.lobby_field_attribute(name)
            if attribute is None:
                raise InvalidRequest(f"update_lobby cannot set {name!r}")
            update.set(attribute, value)
        condition = f"attribute_exists(pk) AND {update.name('ttl')} > {update.value(now_ms // 1000)}"
        params = update.params(self.tables.main, shapes.lobby_key(game_code), condition)
        if owner_game_id is not None:
            # The caller knows whose code it is: the lobby and its claim in one request.
            claim = self._claim_update(game_code, owner_game_id, expires_ms, fields)
            try:
                await self._transact([{"Update": params}, {"Update": claim}])
                return True
            except TransactionCancelled as exc:
                if 0 in exc.failed():
                    raise NotFound(f"lobby {game_code!r}") from None
                # Only the claim's condition failed: update the lobby alone, as below.
        try:
            old = await self.client.call("update_item", ReturnValues="ALL_OLD", **params)
        except Conflict:
            raise NotFound(f"lobby {game_code!r}") from None
        if owner_game_id is not None:
            return False  # the claim belongs to another game: leave it alone
        old_game_id = from_item(old.get("Attributes", {})).get("gameId")
        try:
            await self.client.call("update_item", **self._claim_update(game_code, old_game_id, expires_ms, fields))
        except Conflict:
            return False  # the claim is gone or belongs to another game: leave it alone
        return True

    def put_lobby_nowait(self, lobby: LobbyRecord, *, is_private: bool) -> asyncio.Future[Any]:
        """The whole lobby item and its whole code claim (status = the lobby's state, the
        same ttl), queued on the batch writer: no condition, no transaction, half the
        write capacity of `update_lobby` with an owner. Only for a caller that knows the
        code stays its own until the puts land (`LobbyService._record_start` says when).
        Never blocks; the future resolves once both items are durable."""
        claim = shapes.game_code_item(
            lobby.game_code,
            lobby.game_id,
            is_private=is_private,
            status=lobby.state,
            ttl=lobby.expires_at_ms // 1000,
        )
        return asyncio.gather(
            self.writer.put_nowait(self.tables.main, to_item(shapes.lobby_item(lobby))),
            self.writer.put_nowait(self.tables.game_codes, to_item(claim)),
        )

    def _claim_update(self, game_code: str, game_id: Any, expires_ms: int, fields: dict[str, Any]) -> dict[str, Any]:
        """The code claim lives exactly as long as its lobby, and follows its state."""
        claim = _Update().set("ttl", expires_ms // 1000)
        if "state" in fields:
            claim.set("status", fields["state"])
        if "game_id" in fields:
            claim.set("gameId", str(fields["game_id"]))
        condition = f"{claim.name('gameId')} = {claim.value(str(game_id))}"
        return claim.params(self.tables.game_codes, {"gameCode": game_code}, condition)

    async def delete_lobby(self, game_code: str) -> None:
        await self._transact(
            [
                {"Delete": {"TableName": self.tables.main, "Key": to_item(shapes.lobby_key(game_code))}},
                {"Delete": {"TableName": self.tables.game_codes, "Key": to_item({"gameCode": game_code})}},
            ]
        )

    async def get_game_code(self, game_code: str, *, now_ms: int) -> dict[str, Any]:
        item = await self._get(self.tables.game_codes, {"gameCode": game_code}, now_ms=now_ms)
        return {
            "gameCode": item["gameCode"],
            "gameId": int(item["gameId"]),
            "isPrivate": bool(item.get("isPrivate", False)),
            "status": item.get("status", "waiting"),
        }

    # --- spectators --------------------------------------------------------------------------

    def add_spectator_nowait(self, spectator: SpectatorRecord) -> asyncio.Future[None]:
        return self.writer.put_nowait(self.tables.main, to_item(shapes.spectator_item(spectator)))

    def save_game_nowait(self, game: GameRecord, players: Sequence[GamePlayerRecord] = ()) -> asyncio.Future[Any]:
        """The hot path's game write: full-item puts of the game and its player rows,
        queued on the batch writer (which keeps writes of one key in order). Never
        blocks; the future resolves once every item is durable."""
        writes = [self.writer.put_nowait(self.tables.main, to_item(shapes.game_item(game)))]
        writes += [self.writer.put_nowait(self.tables.main, to_item(shapes.player_item(p))) for p in players]
        return asyncio.gather(*writes)

    def delete_game_rows_nowait(
        self, game_id: int, *, game: bool, player_ids: Sequence[int] = (), spectator_ids: Sequence[int] = ()
    ) -> asyncio.Future[Any]:
        pk = shapes.game_pk(game_id)
        keys = [shapes.game_key(game_id)] if game else []
        keys += [{"pk": pk, "sk": shapes.player_sk(u)} for u in player_ids]
        keys += [{"pk": pk, "sk": shapes.spectator_sk(u)} for u in spectator_ids]
        return asyncio.gather(*(self.writer.delete_nowait(self.tables.main, to_item(key)) for key in keys))

    async def list_spectators(self, game_id: int) -> list[SpectatorRecord]:
        found = await self._query_all(
            TableName=self.tables.main,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": to_attr(shapes.game_pk(game_id)), ":prefix": to_attr("SPECTATOR#")},
        )
        return [shapes.spectator_from_item(i) for i in found]

    # --- leases ---------------------------------------------------------------------------------

    async def acquire_lease(self, name: str, owner: str, *, now_ms: int, duration_ms: int) -> Lease:
        lease = Lease(name=name, owner=owner, expires_at_ms=now_ms + duration_ms)
        try:
            await self.client.call(
                "put_item",
                TableName=self.tables.main,
                Item=to_item(shapes.lease_item(lease)),
                ConditionExpression="attribute_not_exists(pk) OR expiresAt <= :now OR #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":now": to_attr(now_ms), ":owner": to_attr(owner)},
            )
        except Conflict:
            raise LeaseHeld(f"lease {name!r} is held by another owner") from None
        return lease

    async def release_lease(self, name: str, owner: str) -> None:
        try:
            await self.client.call(
                "delete_item",
                TableName=self.tables.main,
                Key=to_item(shapes.lease_key(name)),
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": to_attr(owner)},
            )
        except Conflict:
            pass  # not ours (any more): nothing to release

    # --- match tickets -----------------------------------------------------------------------------

    async def put_ticket(self, ticket: MatchTicket, *, ttl_seconds: int) -> None:
        ttl = ticket.enqueued_at_ms // 1000 + ttl_seconds
        await self._put_durably(self.tables.main, [shapes.ticket_item(ticket, ttl)])

    async def delete_ticket(self, ticket: MatchTicket) -> None:
        future = await self.writer.delete(self.tables.main, to_item(shapes.ticket_key(ticket)))
        await future

    async def release_tickets(self, tickets: Sequence[MatchTicket], game_id: int) -> list[int]:
        # Conditional, not a put of the ticket as it was: a player who withdrew since the
        # claim deleted their ticket, and a put brought it back, unmatched, for a player
        # no longer waiting (review, 2026-12-07).
        released: list[int] = []

        async def release(ticket: MatchTicket) -> None:
            try:
                await self.client.call(
                    "update_item",
                    TableName=self.tables.main,
                    Key=to_item(shapes.ticket_key(ticket)),
                    UpdateExpression="REMOVE #matched",
                    ConditionExpression="#matched = :game",
                    ExpressionAttributeNames={"#matched": "matchedGameId"},
                    ExpressionAttributeValues={":game": to_attr(game_id)},
                )
            except Conflict:
                return  # gone (withdrawn) or no longer this game's: nothing to give back
            released.append(ticket.user_id)

        await asyncio.gather(*(release(t) for t in tickets))
        return released

    async def claim_matches(self, claims: Sequence[tuple[Sequence[MatchTicket], int]]) -> None:
        # One transaction for many matches: the endpoint's cost is mostly per request
        # (a round of 317 one-match claims took 29 s on the embedded endpoint).
        actions = []
        claimed: list[tuple[MatchTicket, int]] = []  # per action: its ticket and game
        for tickets, game_id in claims:
            for t in tickets:
                update = _Update().set("matchedGameId", game_id)
                condition = f"attribute_exists(pk) AND attribute_not_exists({update.name('matchedGameId')})"
                actions.append({"Update": update.params(self.tables.main, shapes.ticket_key(t), condition)})
                claimed.append((t, game_id))
        if not actions:
            return
        try:
            await self._transact(actions)
        except TransactionCancelled as exc:
            failed = exc.failed()
            # All or nothing, and the game ids are this transaction's alone: if any failed
            # ticket is matched to the very game this transaction gave it, an earlier
            # attempt committed and only its answer was lost. Any, not the first: a player
            # who withdrew meanwhile deleted their (matched) ticket, and reading only that
            # one took a committed batch for lost and gave its game ids to other matches.
            # The first still-matched ticket ends the look: usually one read.
            for index in failed:
                ticket, game_id = claimed[index]
                if await self._claim_is(self.tables.main, shapes.ticket_key(ticket), "matchedGameId", game_id):
                    return
            lost = tuple(claimed[i][0].user_id for i in failed)
            raise TicketAlreadyClaimed(f"tickets of users {list(lost)} were already claimed", lost) from None

    async def list_region_tickets(self, region: str, *, now_ms: int) -> list[MatchTicket]:
        found = await self._query_all(
            page_limit=self.ticket_page_limit,
            TableName=self.tables.main,
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": to_attr(shapes.tickets_gsi1pk(region))},
        )
        tickets = [shapes.ticket_from_item(i) for i in found if not shapes.expired(i, now_ms)]
        tickets.sort(key=lambda t: (t.enqueued_at_ms, t.user_id))
        return tickets


def _encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"bad cursor: {exc}") from None
    if not isinstance(key, dict):
        raise InvalidRequest("bad cursor")
    return key
