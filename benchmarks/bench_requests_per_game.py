"""DynamoDB requests per completed matchmade game, from the queue to the recorded result.

One server against the embedded endpoint. Players sign in and connect first
(not counted: a connection is not a game). Then K duels (or K 6-player
free-for-alls) are queued at once, matched, played to the end (the players do
not steer, so the snakes meet a wall or each other), their results and new
ratings written and flushed. Every request is counted at the client layer
(`DynamoClient.call`, which also feeds `db.metrics`), per operation; the
background requests an idle server makes in the same time (heartbeats, the
matcher's lease and polling) are measured just before, over a quiet window, and
taken off. The naive figure counts what one request per item would have cost:
each item of a batch or a transaction, each item a query returned, as its own request.

    python benchmarks/bench_requests_per_game.py --modes duel --games 10   # concurrent: target <= 4
    python benchmarks/bench_requests_per_game.py --modes duel --games 1    # lone: target <= 6
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import os
import sys
import time
import uuid

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.config import Settings
from snaketron.db import open_database
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.engine import GameEventMessage, type_free_for_all, type_team_match
from snaketron.game_server import GameServer
from snaketron.leaderboard.listener import LeaderboardUpdater
from snaketron.logs import configure_logging

IDLE_WINDOW_S = 5.0
GAME_TIMEOUT_S = 60.0
# Issue 22's targets per matchmade duel: with games running concurrently (--games 10),
# and for a lone duel (--games 1), leaderboard and replay writes included.
TARGET_DUEL_CONCURRENT = 4
TARGET_DUEL_LONE = 6


class RequestCounter:
    """Wraps `DynamoClient.call`: requests and naive one-per-item requests, per operation."""

    def __init__(self, client) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.naive: collections.Counter[str] = collections.Counter()
        self._call = client.call

        async def counting_call(operation: str, **params):
            result = await self._call(operation, **params)
            self.requests[operation] += 1
            self.naive[operation] += max(1, _items(operation, params, result))
            return result

        client.call = counting_call

    def snapshot(self) -> tuple[collections.Counter[str], collections.Counter[str]]:
        return collections.Counter(self.requests), collections.Counter(self.naive)


def _items(operation: str, params: dict, result: dict) -> int:
    if operation == "transact_write_items":
        return len(params["TransactItems"])
    if operation in ("batch_write_item", "batch_get_item"):
        return sum(len(v) if isinstance(v, list) else len(v.get("Keys", ())) for v in params["RequestItems"].values())
    if operation in ("query", "scan"):
        return len((result or {}).get("Items", ()))
    return 1


async def play_until_complete(client: GameClient) -> int:
    found = await client.expect(protocol.MatchFound, timeout=GAME_TIMEOUT_S)
    await client.send(protocol.JoinGame(game_id=found.game_id))
    deadline = time.monotonic() + GAME_TIMEOUT_S
    while True:
        event = await client.expect(GameEventMessage, timeout=max(0.01, deadline - time.monotonic()))
        status = event.event.StatusUpdated
        snapshot = event.event.Snapshot
        if status is not None and status.status != "Stopped" and status.status.Complete is not None:
            return found.game_id
        done = snapshot is not None and snapshot.game_state.status != "Stopped"
        if done and snapshot.game_state.status.Complete is not None:
            return found.game_id


@dataclasses.dataclass
class Figures:
    mode: str
    games: int
    requests_per_game: float
    naive_per_game: float
    by_operation: dict[str, float]
    naive_by_operation: dict[str, float]
    idle_per_s: dict[str, float]


async def measure(mode: str, games: int, endpoint: str) -> Figures:
    per_game = 2 if mode == "duel" else 6
    game_type = type_team_match(1) if mode == "duel" else type_free_for_all(6)
    settings = Settings.from_env(
        dynamodb_endpoint=endpoint,
        dev_mode_setting="1",  # its own embedded endpoint on loopback: the development secrets do
        table_prefix=f"rq{uuid.uuid4().hex[:6]}",
        bind_address="127.0.0.1",
        ws_port=0,
        api_port=0,
        api_rate_per_min=0,
        argon2_time_cost=1,
        argon2_memory_kib=64,
        argon2_parallelism=1,
        matchmade_start_delay_ms=200,
        log_level="warning",
    )
    async with open_database(settings) as db:
        server = GameServer(settings, db)
        await server.start()
        counter = RequestCounter(db.client)
        clients: list[GameClient] = []
        try:
            async with AccountClient(server.api_url) as accounts:
                for i in range(games * per_game):
                    signed = await accounts.register(f"rq{mode}{i}", "secret1")
                    client = await GameClient.connect(server.ws_url)
                    await client.authenticate(signed.token)
                    clients.append(client)
            await db.flush()
            idle_before, _ = counter.snapshot()
            idle_began = time.monotonic()
            await asyncio.sleep(IDLE_WINDOW_S)
            idle_after, _ = counter.snapshot()
            idle_rate = {op: (idle_after[op] - idle_before[op]) / (time.monotonic() - idle_began) for op in idle_after}

            before, naive_before = counter.snapshot()
            began = time.monotonic()
            for client in clients:
                await client.send(protocol.QueueForMatch(game_type=game_type))
            game_ids = set(await asyncio.gather(*(play_until_complete(c) for c in clients)))
            for game_id in game_ids:
                await server.rooms.wait_result(game_id, 10.0)
            # The history the rooms' listeners write (boards, profiles, replays) counts too.
            for listener in server.rooms.listeners:
                if isinstance(listener, LeaderboardUpdater):
                    await listener.idle()
            await db.flush()
            window = time.monotonic() - began
            after, naive_after = counter.snapshot()
        finally:
            for client in clients:
                await client.close()
            await server.stop()
    assert len(game_ids) == games, f"{len(game_ids)} games formed, {games} expected"
    by_op = {}
    naive_by_op = {}
    for op in after:
        background = idle_rate.get(op, 0.0) * window
        counted = max(0.0, after[op] - before[op] - background)
        if counted > 0:
            by_op[op] = round(counted / games, 2)
            share = counted / max(1, after[op] - before[op])
            naive_by_op[op] = round((naive_after[op] - naive_before[op]) * share / games, 2)
    return Figures(
        mode=mode,
        games=games,
        requests_per_game=round(sum(by_op.values()), 2),
        naive_per_game=round(sum(naive_by_op.values()), 2),
        by_operation=by_op,
        naive_by_operation=naive_by_op,
        idle_per_s={op: round(r, 2) for op, r in idle_rate.items() if r},
    )


async def main_async(args: argparse.Namespace) -> None:
    configure_logging("warning")
    with EmbeddedEndpoint() as endpoint:
        for mode in args.modes.split(","):
            figures = await measure(mode, args.games, endpoint.url)
            print(
                f"{mode}: {figures.requests_per_game} requests per game (naive one-per-item: "
                f"{figures.naive_per_game}) over {figures.games} games",
                flush=True,
            )
            for op, count in sorted(figures.by_operation.items()):
                print(f"    {op:<22} {count:>6} (naive {figures.naive_by_operation.get(op, 0)})")
            print(f"    idle background per s: {figures.idle_per_s}")
            if mode == "duel":
                lone = figures.games == 1
                target = TARGET_DUEL_LONE if lone else TARGET_DUEL_CONCURRENT
                verdict = "met" if figures.requests_per_game <= target else "NOT met"
                print(f"    target <= {target} per {'lone' if lone else 'concurrent'} duel: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="duel,ffa")
    parser.add_argument("--games", type=int, default=10)
    args = parser.parse_args()
    print(f"requests per game: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
