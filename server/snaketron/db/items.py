"""Item shapes of docs/DATA_MODEL.md: domain records <-> DynamoDB items (plain values).

Keys and index keys are built here and nowhere else. Attribute names are the
camelCase ones of the data model; times are epoch milliseconds, `ttl` is epoch
seconds, and GSI sort keys carry ISO-8601 UTC times so they sort as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from snaketron.db.models import (
    GamePlayerRecord,
    GameRecord,
    GameWithMembers,
    Lease,
    LobbyRecord,
    MatchTicket,
    ServerRecord,
    SpectatorRecord,
    UserRecord,
)

SERVER_TTL_SECONDS = 3_600  # a server item outlives its last heartbeat by one hour


def iso_ms(ms: int) -> str:
    """Fixed-width ISO-8601 UTC with milliseconds: sorts as text in time order."""
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def expired(item: dict[str, Any], now_ms: int) -> bool:
    """DynamoDB deletes expired items lazily (the embedded endpoint never): every read
    treats `ttl <= now` as absent."""
    ttl = item.get("ttl")
    return ttl is not None and ttl * 1000 <= now_ms


# --- keys ------------------------------------------------------------------------


def server_key(server_id: int) -> dict[str, str]:
    return {"pk": f"SERVER#{server_id}", "sk": "META"}


def user_key(user_id: int) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": "META"}


def game_pk(game_id: int) -> str:
    return f"GAME#{game_id}"


def game_key(game_id: int) -> dict[str, str]:
    return {"pk": game_pk(game_id), "sk": "META"}


def player_sk(user_id: int) -> str:
    return f"PLAYER#{user_id}"


def spectator_sk(user_id: int) -> str:
    return f"SPECTATOR#{user_id}"


def lobby_key(game_code: str) -> dict[str, str]:
    return {"pk": f"LOBBY#{game_code}", "sk": "META"}


def lease_key(name: str) -> dict[str, str]:
    return {"pk": f"LEASE#{name}", "sk": "META"}


def queue_pk(region: str, queue_key: str) -> str:
    return f"QUEUE#{region}#{queue_key}"


def ticket_key(ticket: MatchTicket) -> dict[str, str]:
    return {"pk": queue_pk(ticket.region, ticket.queue_key), "sk": f"{ticket.enqueued_at_ms:015d}#{ticket.user_id}"}


def game_status_sk(status: str, updated_at_ms: int) -> str:
    return f"{status}#{iso_ms(updated_at_ms)}"


def heartbeat_sk(heartbeat_ms: int, server_id: int) -> str:
    return f"{iso_ms(heartbeat_ms)}#{server_id}"


# --- servers -----------------------------------------------------------------------


def server_item(s: ServerRecord) -> dict[str, Any]:
    return {
        **server_key(s.server_id),
        "gsi1pk": "SERVER",
        "gsi1sk": iso_ms(s.created_at_ms),
        "gsi2pk": s.region,
        "gsi2sk": heartbeat_sk(s.last_heartbeat_ms, s.server_id),
        "serverId": s.server_id,
        "region": s.region,
        "wsUrl": s.ws_url,
        "apiUrl": s.api_url,
        "internalUrl": s.internal_url,
        "status": s.status,
        "currentGameCount": s.current_game_count,
        "currentPlayerCount": s.current_player_count,
        "maxGameCapacity": s.max_game_capacity,
        "lastHeartbeat": s.last_heartbeat_ms,
        "createdAt": s.created_at_ms,
        "ttl": s.last_heartbeat_ms // 1000 + SERVER_TTL_SECONDS,
    }


def server_from_item(i: dict[str, Any]) -> ServerRecord:
    return ServerRecord(
        server_id=i["serverId"],
        region=i["region"],
        ws_url=i.get("wsUrl", ""),
        api_url=i.get("apiUrl", ""),
        internal_url=i.get("internalUrl", ""),
        status=i.get("status", "active"),
        current_game_count=i.get("currentGameCount", 0),
        current_player_count=i.get("currentPlayerCount", 0),
        max_game_capacity=i.get("maxGameCapacity", 0),
        last_heartbeat_ms=i.get("lastHeartbeat", 0),
        created_at_ms=i.get("createdAt", 0),
    )


# --- users -------------------------------------------------------------------------


def user_item(u: UserRecord) -> dict[str, Any]:
    return {
        **user_key(u.user_id),
        "gsi1pk": "USER",
        "gsi1sk": iso_ms(u.created_at_ms),
        "userId": u.user_id,
        "username": u.username,
        "passwordHash": u.password_hash,
        "mmr": u.mmr,
        "ratingMu": u.rating_mu,
        "ratingSigma": u.rating_sigma,
        "gamesPlayed": u.games_played,
        "ratingSeason": u.rating_season,
        "createdAt": u.created_at_ms,
        "tokenGen": u.token_generation,
    }


def user_from_item(i: dict[str, Any]) -> UserRecord:
    return UserRecord(
        user_id=i["userId"],
        username=i["username"],
        password_hash=i["passwordHash"],
        mmr=i.get("mmr", 1000),
        rating_mu=_float_or_none(i.get("ratingMu")),
        rating_sigma=_float_or_none(i.get("ratingSigma")),
        games_played=i.get("gamesPlayed", 0),
        rating_season=i.get("ratingSeason"),
        created_at_ms=i.get("createdAt", 0),
        token_generation=i.get("tokenGen", 0),
    )


def username_item(u: UserRecord) -> dict[str, Any]:
    """The usernames-table copy, keyed by the lower-cased name."""
    return {"username": u.username.lower(), "userId": u.user_id, "passwordHash": u.password_hash, "mmr": u.mmr}


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# --- games -------------------------------------------------------------------------

_GAME_FIELDS = {
    "started_at_ms": "startedAt",
    "ended_at_ms": "endedAt",
    "final_tick": "finalTick",
    "winning_snake_id": "winningSnakeId",
    "winner_user_id": "winnerUserId",
}


def game_field_attribute(name: str) -> str | None:
    """The attribute of an optional GameRecord field that update_game_status may set."""
    return _GAME_FIELDS.get(name)


def game_item(g: GameRecord) -> dict[str, Any]:
    return {
        **game_key(g.game_id),
        "gsi1pk": "GAME",
        "gsi1sk": game_status_sk(g.status, g.updated_at_ms or g.created_at_ms),
        "gameId": g.game_id,
        "serverId": g.server_id,
        "gameType": g.game_type,
        "gameMode": g.game_mode,
        "status": g.status,
        "isPrivate": g.is_private,
        "allowSpectators": g.allow_spectators,
        "gameCode": g.game_code,
        "hostUserId": g.host_user_id,
        "createdAt": g.created_at_ms,
        "updatedAt": g.updated_at_ms or g.created_at_ms,
        **{attr: getattr(g, name) for name, attr in _GAME_FIELDS.items()},
    }


def game_from_item(i: dict[str, Any]) -> GameRecord:
    return GameRecord(
        game_id=i["gameId"],
        server_id=i.get("serverId", 0),
        game_type=i.get("gameType", "Solo"),
        game_mode=i.get("gameMode", "custom"),
        status=i.get("status", "waiting"),
        is_private=i.get("isPrivate", False),
        allow_spectators=i.get("allowSpectators", True),
        game_code=i.get("gameCode"),
        host_user_id=i.get("hostUserId"),
        created_at_ms=i.get("createdAt", 0),
        updated_at_ms=i.get("updatedAt", 0),
        **{name: i.get(attr) for name, attr in _GAME_FIELDS.items()},
    )


def player_item(p: GamePlayerRecord) -> dict[str, Any]:
    return {
        "pk": game_pk(p.game_id),
        "sk": player_sk(p.user_id),
        "gameId": p.game_id,
        "userId": p.user_id,
        "username": p.username,
        "teamId": p.team_id,
        "snakeId": p.snake_id,
        "joinedAt": p.joined_at_ms,
        "placement": p.placement,
        "mmrBefore": p.mmr_before,
        "mmrAfter": p.mmr_after,
    }


def player_from_item(i: dict[str, Any]) -> GamePlayerRecord:
    return GamePlayerRecord(
        game_id=i["gameId"],
        user_id=i["userId"],
        username=i.get("username", ""),
        team_id=i.get("teamId"),
        snake_id=i.get("snakeId"),
        joined_at_ms=i.get("joinedAt", 0),
        placement=i.get("placement"),
        mmr_before=i.get("mmrBefore"),
        mmr_after=i.get("mmrAfter"),
    )


def spectator_item(s: SpectatorRecord) -> dict[str, Any]:
    return {
        "pk": game_pk(s.game_id),
        "sk": spectator_sk(s.user_id),
        "gameId": s.game_id,
        "userId": s.user_id,
        "joinedAt": s.joined_at_ms,
    }


def spectator_from_item(i: dict[str, Any]) -> SpectatorRecord:
    return SpectatorRecord(game_id=i["gameId"], user_id=i["userId"], joined_at_ms=i.get("joinedAt", 0))


REPLAY_SK_PREFIX = "REPLAY#"


def replay_chunk_item(game_id: int, index: int, data: bytes, *, ttl: int, **meta: Any) -> dict[str, Any]:
    """One piece of a game's compressed replay, under the game's partition. The first
    piece (`REPLAY#000`) also carries `meta` (chunk count, rules version, who may watch)."""
    return {
        "pk": game_pk(game_id),
        "sk": f"{REPLAY_SK_PREFIX}{index:03d}",
        "gameId": game_id,
        "chunk": index,
        "data": data,
        "ttl": ttl,
        **meta,
    }


def game_with_members_from_items(items: list[dict[str, Any]]) -> tuple[GameWithMembers | None, list[dict[str, Any]]]:
    """A game partition's items read apart: the game and its members (None without the
    game item), and the replay pieces in order."""
    game = None
    players: list[GamePlayerRecord] = []
    spectators: list[SpectatorRecord] = []
    replay: list[dict[str, Any]] = []
    for i in items:
        sk = i["sk"]
        if sk == "META":
            game = game_from_item(i)
        elif sk.startswith("PLAYER#"):
            players.append(player_from_item(i))
        elif sk.startswith("SPECTATOR#"):
            spectators.append(spectator_from_item(i))
        elif sk.startswith(REPLAY_SK_PREFIX):
            replay.append(i)
    replay.sort(key=lambda i: str(i["sk"]))
    if game is None:
        return None, replay
    return GameWithMembers(game=game, players=players, spectators=spectators), replay


def game_code_item(game_code: str, game_id: int, *, is_private: bool, status: str, ttl: int) -> dict[str, Any]:
    # gameId is a string here, as the spec lists it.
    return {"gameCode": game_code, "gameId": str(game_id), "isPrivate": is_private, "status": status, "ttl": ttl}


# --- lobbies -----------------------------------------------------------------------

_LOBBY_FIELDS = {
    "host_user_id": "hostUserId",
    "settings": "settings",
    "state": "state",
    "server_id": "serverId",
    "game_id": "gameId",
}


def lobby_field_attribute(name: str) -> str | None:
    return _LOBBY_FIELDS.get(name)


def lobby_item(lobby: LobbyRecord) -> dict[str, Any]:
    return {
        **lobby_key(lobby.game_code),
        "gameCode": lobby.game_code,
        "gameId": lobby.game_id,
        "hostUserId": lobby.host_user_id,
        "settings": lobby.settings,
        "state": lobby.state,
        "serverId": lobby.server_id,
        "createdAt": lobby.created_at_ms,
        "expiresAt": lobby.expires_at_ms,
        "ttl": lobby.expires_at_ms // 1000,
    }


def lobby_from_item(i: dict[str, Any]) -> LobbyRecord:
    return LobbyRecord(
        game_code=i["gameCode"],
        game_id=i["gameId"],
        host_user_id=i["hostUserId"],
        settings=i.get("settings", {}),
        state=i.get("state", "waiting"),
        server_id=i.get("serverId", 0),
        created_at_ms=i.get("createdAt", 0),
        expires_at_ms=i.get("expiresAt", 0),
    )


# --- leases and tickets ---------------------------------------------------------------


def lease_item(lease: Lease) -> dict[str, Any]:
    return {
        **lease_key(lease.name),
        "name": lease.name,
        "owner": lease.owner,
        "expiresAt": lease.expires_at_ms,
        # TTL cleans abandoned leases up; a day late is harmless, reads check expiresAt.
        "ttl": lease.expires_at_ms // 1000 + 1,
    }


def tickets_gsi1pk(region: str) -> str:
    """Every ticket of a region shares one GSI1 partition, so the matcher and each
    server's delivery poll read all queues of the region in one query."""
    return f"QUEUE#{region}"


def ticket_item(t: MatchTicket, ttl: int) -> dict[str, Any]:
    return {
        **ticket_key(t),
        "gsi1pk": tickets_gsi1pk(t.region),
        "gsi1sk": f"{t.queue_key}#{t.enqueued_at_ms:015d}#{t.user_id}",
        "region": t.region,
        "queueKey": t.queue_key,
        "userId": t.user_id,
        "username": t.username,
        "mmr": t.mmr,
        "serverId": t.server_id,
        "enqueuedAt": t.enqueued_at_ms,
        "matchedGameId": t.matched_game_id,
        "ratingMu": t.rating_mu,
        "ratingSigma": t.rating_sigma,
        "gamesPlayed": t.games_played,
        "ratingSeason": t.rating_season,
        "ttl": ttl,
    }


def ticket_from_item(i: dict[str, Any]) -> MatchTicket:
    return MatchTicket(
        region=i["region"],
        queue_key=i["queueKey"],
        user_id=i["userId"],
        username=i.get("username", ""),
        mmr=i.get("mmr", 1000),
        server_id=i.get("serverId", 0),
        enqueued_at_ms=i["enqueuedAt"],
        matched_game_id=i.get("matchedGameId"),
        rating_mu=i.get("ratingMu"),
        rating_sigma=i.get("ratingSigma"),
        games_played=i.get("gamesPlayed", 0),
        rating_season=i.get("ratingSeason"),
    )
