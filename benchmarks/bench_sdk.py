"""CPU per DynamoDB request: the aiobotocore SDK path versus the lean data plane.

    python benchmarks/bench_sdk.py [--requests 400] [--rounds 3] [--concurrency 4] [--uvloop] [--endpoint URL]

Both paths (`DynamoClient` with SNAKETRON_DB_LEAN on and off) send the same hot
operations, shaped like the game server's (player rows, a heartbeat update, a
partition query, 25-item batch writes, two-action transactions), to the same
endpoint in the same run: the embedded one (moto in a child process, niced, so
that its CPU is not this process's) unless --endpoint is given. For each operation
the two paths alternate, round by round; each round sends --requests requests with
--concurrency in flight and reads this process's CPU time (`time.process_time`)
around them (on asyncio's own event loop, or with --uvloop on the one the game
server runs). Printed: the median over the rounds of CPU microseconds per request,
everything `DynamoClient.call` does included (retry loop, metrics, timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from snaketron.config import Settings
from snaketron.db.client import DynamoClient
from snaketron.db.codec import to_attr, to_item
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.tables import TableNames, ensure_tables

Params = Callable[[int], dict[str, Any]]


def player_row(run: str, i: int) -> dict[str, Any]:
    return to_item(
        {
            "pk": f"GAME#{run}-{i // 8}",
            "sk": f"PLAYER#{i % 8}",
            "gameId": i // 8,
            "userId": i,
            "username": f"player-{i}",
            "snakeId": i % 8,
            "score": 12 * i,
            "rank": i % 2 + 1,
            "joinedAt": 1_780_000_000_000 + i,
        }
    )


def key(run: str, i: int) -> dict[str, Any]:
    return to_item({"pk": f"GAME#{run}-{i // 8}", "sk": f"PLAYER#{i % 8}"})


def operations(table: str, run: str) -> dict[str, Params]:
    """Per operation: the parameters of its i-th request."""

    def update(i: int) -> dict[str, Any]:
        names = ["lastHeartbeat", "region", "gsi2pk", "gsi2sk", "currentGameCount", "currentPlayerCount", "ttl"]
        values = [1_780_000_000_000 + i, "eu", "eu", f"2026-12-07T12:00:00.000Z#{i}", i % 50, i % 300, 1_780_000_000]
        return {
            "TableName": table,
            "Key": key(run, i % 64),
            "UpdateExpression": "SET " + ", ".join(f"#n{j} = :v{j}" for j in range(len(names))),
            "ExpressionAttributeNames": {f"#n{j}": n for j, n in enumerate(names)},
            "ExpressionAttributeValues": {f":v{j}": to_attr(v) for j, v in enumerate(values)},
            "ConditionExpression": "attribute_exists(pk)",
        }

    return {
        "get_item": lambda i: {"TableName": table, "Key": key(run, i % 64), "ConsistentRead": True},
        "put_item": lambda i: {"TableName": table, "Item": player_row(run, i % 64)},
        "update_item": update,
        "delete_item": lambda i: {"TableName": table, "Key": key(run, 10_000 + i)},
        "query": lambda i: {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": to_attr(f"GAME#{run}-{i % 8}")},
        },
        "batch_get_item": lambda i: {
            "RequestItems": {table: {"Keys": [key(run, (i + j) % 64) for j in range(10)], "ConsistentRead": True}}
        },
        "batch_write_item": lambda i: {
            "RequestItems": {table: [{"PutRequest": {"Item": player_row(run, (i + j) % 64)}} for j in range(25)]}
        },
        "transact_write_items": lambda i: {
            "TransactItems": [{"Put": {"TableName": table, "Item": player_row(run, (i + j) % 64)}} for j in range(2)]
        },
        "transact_get_items": lambda i: {
            "TransactItems": [{"Get": {"TableName": table, "Key": key(run, (i + j) % 64)}} for j in range(2)]
        },
    }


async def cpu_per_request(
    client: DynamoClient, operation: str, params: Params, requests: int, concurrency: int
) -> float:
    """CPU microseconds per request of `requests` requests, `concurrency` in flight."""
    numbers = iter(range(requests))

    async def worker() -> None:
        for i in numbers:
            await client.call(operation, **params(i))

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - started) / requests * 1e6


async def run(args: argparse.Namespace) -> None:
    endpoint = EmbeddedEndpoint(niceness=10) if not args.endpoint else None
    url = endpoint.start() if endpoint is not None else args.endpoint
    try:
        prefix = f"bench-sdk-{uuid.uuid4().hex[:6]}"
        base = Settings.from_env(
            {},
            dynamodb_endpoint=url,
            aws_region="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            table_prefix=prefix,
            embedded_db=False,
            log_level="warning",
        )
        table = TableNames.for_prefix(prefix).main
        run_id = uuid.uuid4().hex[:6]
        async with (
            DynamoClient(dataclasses.replace(base, db_lean=False)) as sdk,
            DynamoClient(dataclasses.replace(base, db_lean=True)) as lean,
        ):
            await ensure_tables(sdk, prefix)
            for i in range(64):
                await sdk.call("put_item", TableName=table, Item=player_row(run_id, i))
            paths = {"sdk": sdk, "lean": lean}
            print(
                f"CPU µs per request ({args.requests} requests x {args.rounds} rounds per path, "
                f"{args.concurrency} in flight; median of rounds)"
            )
            print(f"{'operation':<22} {'sdk':>8} {'lean':>8} {'lean/sdk':>9}")
            totals = {"sdk": 0.0, "lean": 0.0}
            for operation, params in operations(table, run_id).items():
                figures: dict[str, list[float]] = {"sdk": [], "lean": []}
                for client in paths.values():  # warm-up: connections, caches
                    await cpu_per_request(client, operation, params, 20, args.concurrency)
                for _ in range(args.rounds):
                    for name, client in paths.items():
                        figures[name].append(
                            await cpu_per_request(client, operation, params, args.requests, args.concurrency)
                        )
                sdk_us, lean_us = statistics.median(figures["sdk"]), statistics.median(figures["lean"])
                totals["sdk"] += sdk_us
                totals["lean"] += lean_us
                print(f"{operation:<22} {sdk_us:>8.0f} {lean_us:>8.0f} {lean_us / sdk_us:>9.2f}")
            n = len(operations(table, run_id))
            print(
                f"{'mean of operations':<22} {totals['sdk'] / n:>8.0f} {totals['lean'] / n:>8.0f} "
                f"{totals['lean'] / totals['sdk']:>9.2f}"
            )
    finally:
        if endpoint is not None:
            endpoint.stop()
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    print(f"python {platform.python_version()} on {platform.machine()}, {sys.platform}, event loop: {loop}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per round and path")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per path (alternating)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--endpoint", default="", help="an endpoint URL instead of the embedded one")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop, as the game server does")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(run(args))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
