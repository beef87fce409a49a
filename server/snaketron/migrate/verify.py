"""After the copy: do PostgreSQL and DynamoDB agree?

Two checks, both read the target the way the server reads it:
- counts per entity: the source's rows against the target's items, counted by a
  parallel scan of each table. Items a server created after the migration do not
  count: their ids are above the highest legacy id (the counters were raised), so
  only ids up to it are counted; lobbies and codes count while their ttl is live,
  on both sides at the same instant;
- a random sample of users, games (with players and spectators) and live lobbies,
  mapped from the source again and compared field by field with what the data
  layer's own reads (`get_user`, `get_user_by_username`, `get_game`, `get_lobby`,
  `get_game_code`) return.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from snaketron.db.codec import from_item
from snaketron.db.errors import NotFound
from snaketron.migrate import mapping
from snaketron.migrate.report import EntityCounts, Mismatch, Verification
from snaketron.migrate.source import PostgresSource, SourceMaxIds

if TYPE_CHECKING:
    from snaketron.db.dynamo import DynamoDatabase


def _as_dict(value: Any) -> dict[str, Any]:
    return msgspec.structs.asdict(value) if isinstance(value, msgspec.Struct) else dict(value)


def compare(entity: str, key: str, expected: Any, actual: Any, out: list[Mismatch]) -> None:
    """Field-by-field differences between two records (Structs or dicts) into `out`."""
    want, have = _as_dict(expected), _as_dict(actual)
    for name in sorted(want.keys() | have.keys()):
        if want.get(name) != have.get(name):
            out.append(
                Mismatch(entity=entity, key=key, field=name, expected=repr(want.get(name)), actual=repr(have.get(name)))
            )


async def _scan(
    client: Any, table: str, projection: str, segments: int, visit: Callable[[dict[str, Any]], None]
) -> None:
    names = {"#ttl": "ttl"} if "#ttl" in projection else {}

    async def segment(index: int) -> None:
        params: dict[str, Any] = {
            "TableName": table,
            "ProjectionExpression": projection,
            "Segment": index,
            "TotalSegments": segments,
        }
        if names:
            params["ExpressionAttributeNames"] = names
        while True:
            page = await client.call("scan", **params)
            for item in page.get("Items", []):
                visit(from_item(item))
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    await asyncio.gather(*(segment(i) for i in range(segments)))


def _id_of(pk: str, prefix: str) -> int | None:
    if not pk.startswith(prefix):
        return None
    tail = pk[len(prefix) :]
    return int(tail) if tail.isdigit() else None


def _live(item: dict[str, Any], now_ms: int) -> bool:
    ttl = item.get("ttl")
    return ttl is None or ttl * 1000 > now_ms


async def target_counts(target: DynamoDatabase, highest: SourceMaxIds, *, now_ms: int, segments: int) -> EntityCounts:
    """Items of legacy entities in the target, by scanning (only keys and a few attributes)."""
    counts = EntityCounts()

    def visit_main(item: dict[str, Any]) -> None:
        pk, sk = item["pk"], item["sk"]
        user_id = _id_of(pk, "USER#")
        if user_id is not None:
            if sk == "META" and user_id <= highest.user:
                counts.users += 1
            return
        game_id = _id_of(pk, "GAME#")
        if game_id is not None:
            if game_id <= highest.game:
                if sk == "META":
                    counts.games += 1
                elif sk.startswith("PLAYER#"):
                    counts.players += 1
                elif sk.startswith("SPECTATOR#"):
                    counts.spectators += 1
            return
        if (
            pk.startswith("LOBBY#")
            and sk == "META"
            and _live(item, now_ms)
            and int(item.get("gameId", 0)) <= highest.game
        ):
            counts.lobbies += 1

    def visit_username(item: dict[str, Any]) -> None:
        if int(item.get("userId", 0)) <= highest.user:
            counts.usernames += 1

    def visit_code(item: dict[str, Any]) -> None:
        game_id = str(item.get("gameId", "0"))
        if _live(item, now_ms) and game_id.isdigit() and int(game_id) <= highest.game:
            counts.game_codes += 1

    tables = target.tables
    await _scan(target.client, tables.main, "pk, sk, gameId, #ttl", segments, visit_main)
    await _scan(target.client, tables.usernames, "userId", segments, visit_username)
    await _scan(target.client, tables.game_codes, "gameId, #ttl", segments, visit_code)
    return counts


async def _compare_users(
    source: PostgresSource, db: DynamoDatabase, renamed: dict[int, str], size: int, out: list[Mismatch]
) -> int:
    rows = await source.sample_users(size)
    for row in rows:
        expected = mapping.user_record(row, renamed.get(row.user_id, row.username))
        key = f"user {row.user_id}"
        try:
            compare("user", key, expected, await db.get_user(row.user_id), out)
        except NotFound:
            out.append(Mismatch(entity="user", key=key, field="*", expected="present", actual="missing"))
            continue
        try:
            by_name = await db.get_user_by_username(expected.username)
        except NotFound:
            out.append(
                Mismatch(entity="username", key=expected.username, field="*", expected="present", actual="missing")
            )
            continue
        if by_name.user_id != row.user_id:
            out.append(
                Mismatch(
                    entity="username",
                    key=expected.username,
                    field="userId",
                    expected=str(row.user_id),
                    actual=str(by_name.user_id),
                )
            )
    return len(rows)


async def _compare_games(
    source: PostgresSource, db: DynamoDatabase, renamed: dict[int, str], size: int, out: list[Mismatch]
) -> int:
    rows = await source.sample_games(size)
    ids = [row.game_id for row in rows]
    players: dict[int, list[Any]] = {}
    for p in await source.players_of(ids):
        players.setdefault(p.game_id, []).append(mapping.player_record(p, renamed.get(p.user_id, p.username)))
    spectators: dict[int, list[Any]] = {}
    for s in await source.spectators_of(ids):
        spectators.setdefault(s.game_id, []).append(mapping.spectator_record(s))
    for row in rows:
        key = f"game {row.game_id}"
        try:
            expected = mapping.game_record(row)
        except mapping.UnmappableRow:
            continue  # reported by the copy as skipped; the count check fails on it
        try:
            actual = await db.get_game(row.game_id)
        except NotFound:
            out.append(Mismatch(entity="game", key=key, field="*", expected="present", actual="missing"))
            continue
        compare("game", key, expected, actual.game, out)
        for entity, want, have in (
            ("player", players.get(row.game_id, []), actual.players),
            ("spectator", spectators.get(row.game_id, []), actual.spectators),
        ):
            want_by_user = {r.user_id: r for r in want}
            have_by_user = {r.user_id: r for r in have}
            for user_id in sorted(want_by_user.keys() | have_by_user.keys()):
                member = f"{key} {entity} {user_id}"
                if user_id not in have_by_user or user_id not in want_by_user:
                    out.append(
                        Mismatch(
                            entity=entity,
                            key=member,
                            field="*",
                            expected="present" if user_id in want_by_user else "absent",
                            actual="present" if user_id in have_by_user else "missing",
                        )
                    )
                else:
                    compare(entity, member, want_by_user[user_id], have_by_user[user_id], out)
    return len(rows)


async def _compare_lobbies(
    source: PostgresSource, db: DynamoDatabase, size: int, now_ms: int, out: list[Mismatch]
) -> int:
    rows = await source.sample_lobbies(size, now_ms=now_ms)
    for row in rows:
        expected = mapping.lobby_record(row)
        key = f"lobby {row.game_code}"
        try:
            compare("lobby", key, expected, await db.get_lobby(row.game_code, now_ms=now_ms), out)
            code = await db.get_game_code(row.game_code, now_ms=now_ms)
        except NotFound:
            out.append(Mismatch(entity="lobby", key=key, field="*", expected="present", actual="missing"))
            continue
        want = {"gameId": expected.game_id, "isPrivate": mapping.lobby_is_private(row), "status": expected.state}
        compare("game_code", key, want, {name: code.get(name) for name in want}, out)
    return len(rows)


async def verify_migration(
    source: PostgresSource,
    target: DynamoDatabase,
    *,
    renamed: dict[int, str],
    now_ms: int,
    sample_size: int,
    scan_segments: int = 4,
) -> Verification:
    counts = await source.counts(now_ms=now_ms)
    expected = EntityCounts(
        users=counts.users,
        usernames=counts.users,  # one name per account, renamed ones included
        games=counts.games,
        players=counts.players,
        spectators=counts.spectators,
        lobbies=counts.lobbies,
        game_codes=counts.lobbies,
    )
    actual = await target_counts(target, await source.max_ids(), now_ms=now_ms, segments=max(1, scan_segments))
    mismatches = [
        Mismatch(entity=name, key="count", field="count", expected=str(want), actual=str(have))
        for name, want, have in zip(
            expected.__struct_fields__,
            msgspec.structs.astuple(expected),
            msgspec.structs.astuple(actual),
            strict=True,
        )
        if want != have
    ]
    sampled = await _compare_users(source, target, renamed, sample_size, mismatches)
    sampled += await _compare_games(source, target, renamed, max(1, sample_size // 2), mismatches)
    sampled += await _compare_lobbies(source, target, max(1, sample_size // 4), now_ms, mismatches)
    return Verification(source=expected, target=actual, sampled=sampled, mismatches=mismatches)
