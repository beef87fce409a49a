"""Requests and items read per leaderboard read, and write requests per finished game,
with 100,000 players on the boards (embedded endpoint).

Seeds one season's global duel board: 100,000 entries with ratings drawn from a
normal distribution (mean 1000, sd 250, clamped to 0..3000), the rating buckets
that count them, and one history row per player, written with BatchWriteItem (25
items a request, several in flight). Three registered players (top, middle,
bottom of the board) get a profile and a 60-game history. Then, through
`LeaderboardReader` on a client that counts every request and every item a
response carried (Query: ScannedCount; GetItem: 0 or 1; BatchGetItem: the items
returned), it prints the cost of:
  - a board page at offset 0, 1,000 and 50,000;
  - an exact rank of the top, middle and bottom players;
  - a profile and a history page (first and second);
and, through `LeaderboardRecorder`, the requests and transaction actions one
finished duel and one 6-player free-for-all add.

    python benchmarks/bench_leaderboard.py --players 100000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import sys
import time
from typing import Any

from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.codec import to_item
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.engine import type_free_for_all, type_team_match
from snaketron.leaderboard import keys
from snaketron.leaderboard.reader import LeaderboardReader
from snaketron.leaderboard.recorder import LeaderboardRecorder
from snaketron.leaderboard.seasons import season_at
from snaketron.logs import configure_logging
from snaketron.rooms.result import GameResult, PlayerResult

BATCH = 25
IN_FLIGHT = 8
HISTORY_OF_SAMPLED = 60
FIRST_USER_ID = 1_000_000


class CountingClient:
    """Stands in for DynamoClient: counts requests and items read, per label."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.requests = 0
        self.items = 0
        self.actions = 0

    def reset(self) -> None:
        self.requests = self.items = self.actions = 0

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        response: dict[str, Any] = await self._client.call(operation, **params)
        self.requests += 1
        if operation == "query":
            self.items += int(response.get("ScannedCount", response.get("Count", 0)))
        elif operation == "get_item":
            self.items += 1 if response.get("Item") else 0
        elif operation == "batch_get_item":
            self.items += sum(len(v) for v in response.get("Responses", {}).values())
        elif operation == "transact_write_items":
            self.actions += len(params["TransactItems"])
        return response


def rating(rng: random.Random) -> int:
    return max(0, min(3000, round(rng.gauss(1000, 250))))


async def write_all(db: Any, items: list[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25, IN_FLIGHT at once, unprocessed items re-sent."""
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for start in range(0, len(items), BATCH):
        queue.put_nowait(items[start : start + BATCH])

    async def worker() -> None:
        while not queue.empty():
            chunk = queue.get_nowait()
            pending = {db.tables.main: [{"PutRequest": {"Item": to_item(i)}} for i in chunk]}
            while pending:
                response = await db.client.call("batch_write_item", RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


def record_of(user_id: int) -> tuple[int, int, int]:
    """Seeded wins, losses and games of a player (a draw or two among the games)."""
    wins, losses = (user_id * 7) % 40, (user_id * 11) % 40
    return wins, losses, wins + losses + 1


def entry_item(user_id: int, mmr: int, season: str, now: int) -> dict[str, Any]:
    wins, losses, games = record_of(user_id)
    return {
        **keys.entry_key(user_id, season, "duel", keys.GLOBAL),
        "gsi1pk": keys.board_name(season, "duel", keys.GLOBAL),
        "gsi1sk": keys.rated_rank_key(mmr, games, now, user_id),
        "userId": user_id,
        "username": f"p{user_id}",
        "mmr": mmr,
        "wins": wins,
        "losses": losses,
        "games": games,
        "reachedAt": now,
        "lastEndMs": now,
        "version": 1,
    }


def history_item(user_id: int, opponent: int, end_ms: int, game_id: int) -> dict[str, Any]:
    return {
        **keys.history_key(user_id, end_ms, game_id),
        "gameId": game_id,
        "gameType": "duel",
        "kind": "matchmaking",
        "rated": True,
        "abandoned": False,
        "startedAt": end_ms - 90_000,
        "endedAt": end_ms,
        "durationMs": 90_000,
        "place": 1,
        "score": 12,
        "mmrChange": 15,
        "players": [
            {"userId": user_id, "username": f"p{user_id}", "place": 1, "score": 12, "mmrChange": 15},
            {"userId": opponent, "username": f"p{opponent}", "place": 2, "score": 5, "mmrChange": -15},
        ],
    }


def game(game_id: int, type_: Any, players: list[tuple[int, int]], end_ms: int) -> GameResult:
    return GameResult(
        game_id=game_id,
        kind="matchmaking",
        game_type=type_,
        rated=True,
        is_private=False,
        region="local",
        server_id=1,
        start_ms=end_ms - 60_000,
        end_ms=end_ms,
        end_tick=600,
        winner_user_id=players[0][0],
        abandoned=False,
        players=tuple(
            PlayerResult(uid, f"p{uid}", uid, None, place, 10, False, 1000, 1000 + (20 if place == 1 else -5))
            for place, (uid, _) in enumerate(players, start=1)
        ),
        spectator_ids=(),
    )


async def run(players: int, seed: int) -> None:
    rng = random.Random(seed)
    now = time.time_ns() // 1_000_000
    with EmbeddedEndpoint() as endpoint:
        settings = Settings.from_env(
            {},
            dynamodb_endpoint=endpoint.url,
            table_prefix="bench-lb",
            embedded_db=False,
            create_tables=True,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            log_level="warning",
            # The embedded endpoint answers an index query by walking the whole table:
            # slow at this size, and not what is measured here (requests and items are).
            db_read_timeout=300.0,
            db_deadline_ms=600_000,
        )
        async with open_database(settings) as db:
            season = season_at(now, settings.season_months).id
            ratings = {FIRST_USER_ID + i: rating(rng) for i in range(players)}
            ordered = sorted(ratings, key=lambda uid: (-ratings[uid], record_of(uid)[2], uid))
            sampled = {"top": ordered[0], "middle": ordered[len(ordered) // 2], "bottom": ordered[-1]}
            buckets: collections.Counter[int] = collections.Counter(keys.bucket_of(m) for m in ratings.values())

            started = time.perf_counter()
            items = [entry_item(uid, mmr, season, now) for uid, mmr in ratings.items()]
            items += [history_item(uid, uid + 1, now - 1000, 10_000_000 + i) for i, uid in enumerate(ratings)]
            items += [
                {"pk": keys.bucket_pk(season, "duel", keys.GLOBAL), "sk": keys.bucket_sk(b), "count": n}
                for b, n in buckets.items()
            ]
            for uid in sampled.values():
                items.append(
                    {
                        "pk": f"USER#{uid}",
                        "sk": "META",
                        "userId": uid,
                        "username": f"p{uid}",
                        "mmr": ratings[uid],
                        "createdAt": now,
                    }
                )
                items.append(
                    {
                        **keys.stats_key(uid, "duel"),
                        "gameType": "duel",
                        "games": 80,
                        "wins": 40,
                        "losses": 40,
                        "mmr": ratings[uid],
                        "version": 1,
                    }
                )
                items += [
                    history_item(uid, uid + 1, now - 100_000 * (k + 2), 20_000_000 + uid * 100 + k)
                    for k in range(HISTORY_OF_SAMPLED)
                ]
            await write_all(db, items)
            for uid in sampled.values():
                await db.client.call(
                    "put_item",
                    TableName=db.tables.usernames,
                    Item=to_item({"username": f"p{uid}", "userId": uid, "passwordHash": "x", "mmr": ratings[uid]}),
                )
            seed_s = time.perf_counter() - started
            print(f"seeded {players:,} players ({len(items):,} items, {len(buckets)} rating buckets) in {seed_s:.0f} s")

            counting = CountingClient(db.client)
            reader = LeaderboardReader(counting, db.tables.main, db.tables.usernames)  # type: ignore[arg-type]
            rows: list[tuple[str, int, int, str]] = []

            async def measure(label: str, action: Any) -> Any:
                counting.reset()
                t0 = time.perf_counter()
                value = await action()
                rows.append((label, counting.requests, counting.items, f"{(time.perf_counter() - t0) * 1000:.0f}"))
                return value

            for offset in (0, 1_000, players // 2):
                page = await measure(
                    f"board page, 25 entries at offset {offset:,}",
                    lambda o=offset: reader.page(season, "duel", keys.GLOBAL, offset=o, limit=25),
                )
                assert page.entries and page.entries[0]["rank"] == offset + 1
                assert ratings[page.entries[0]["userId"]] == ratings[ordered[offset]]
            for where, uid in sampled.items():
                counting.reset()
                t0 = time.perf_counter()
                entry = await reader.entry(uid, season, "duel", keys.GLOBAL)
                rank = await reader.rank_of(entry, season, "duel", keys.GLOBAL)
                rows.append(
                    (
                        f"exact rank, {where} player (rank {rank:,})",
                        counting.requests,
                        counting.items,
                        f"{(time.perf_counter() - t0) * 1000:.0f}",
                    )
                )
                assert rank == ordered.index(uid) + 1, (where, rank)
            uid = sampled["middle"]

            async def profile() -> Any:
                user_id = await reader.user_id_of(f"p{uid}")
                return await reader.profile_items(user_id)

            await measure("profile", profile)

            async def history_pages() -> Any:
                user_id = await reader.user_id_of(f"p{uid}")
                return await reader.history(user_id, limit=20, cursor=None)

            first = await measure("history page 1 (20 games)", history_pages)

            async def second_page() -> Any:
                user_id = await reader.user_id_of(f"p{uid}")
                return await reader.history(user_id, limit=20, cursor=first.cursor)

            await measure("history page 2 (20 games)", second_page)

            recorder = LeaderboardRecorder(counting, db.tables.main, season_months=settings.season_months)  # type: ignore[arg-type]
            writes: list[tuple[str, int, int]] = []
            for label, type_, seats in (
                ("finished duel", type_team_match(1), [(sampled["top"], 0), (sampled["middle"], 0)]),
                ("finished 6-player FFA", type_free_for_all(6), [(ordered[k * (players // 6)], 0) for k in range(6)]),
            ):
                counting.reset()
                await recorder.record(game(30_000_000 + len(writes), type_, seats, now + 1))
                writes.append((label, counting.requests, counting.actions))

    print(f"\n| read ({players:,} players) | requests | items read | ms (embedded) |")
    print("|---|---|---|---|")
    for label, requests, items_read, ms in rows:
        print(f"| {label} | {requests} | {items_read} | {ms} |")
    print("\n| write | requests | transaction actions |")
    print("|---|---|---|")
    for label, requests, actions in writes:
        print(f"| {label} | {requests} (BatchGetItem + TransactWriteItems) | {actions} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    configure_logging("warning")
    asyncio.run(run(args.players, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
