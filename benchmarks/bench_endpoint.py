"""The embedded endpoint's CPU per request, for the requests matchmade games make.

Starts the embedded endpoint as `snaketron serve` does (`EmbeddedEndpoint`), fills
the main table with `--filler` items (finished games pile up there during a load
test) and `--users` users, then sends each kind of request in turn through
`DynamoDatabase` and prints the endpoint process's CPU (user + system, from
/proc) per request:

- GetItem: `get_user`;
- BatchGetItem: four users in one request (the leaderboard recorder's read);
- Query: `list_region_tickets` with `--tickets` tickets queued (the matcher's round,
  a GSI1 query);
- TransactWriteItems: `claim_matches` of 50 duels (100 guarded ticket updates), and
  `update_ratings` of a duel (two guarded rating updates);
- PutItem: `put_ticket`.

    python benchmarks/bench_endpoint.py [--filler 20000] [--users 1000] [--tickets 300]

CPU per request is what limits the embedded endpoint (moto runs one request at a
time in one process): a matchmaking load test saturated it at about 70 requests a
second (benchmarks/RESULTS.md, "Embedded endpoint").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench_endpoint_memory import open_database
from snaketron.db.codec import to_item
from snaketron.db.embedded import EmbeddedEndpoint
from snaketron.db.models import MatchTicket, RatingUpdate
from snaketron.db.tables import TableNames

TICKS = os.sysconf("SC_CLK_TCK")
REGION = "bench"


def cpu_s(pid: int) -> float:
    """The process's user + system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def measure(pid: int, name: str, count: int, request: Callable[[int], Awaitable[object]]) -> None:
    before, began = cpu_s(pid), time.perf_counter()
    for i in range(count):
        await request(i)
    cpu, wall = cpu_s(pid) - before, time.perf_counter() - began
    print(f"{name:<44} {count:>5} | {cpu / count * 1e6:>10,.0f} | {wall / count * 1e6:>10,.0f}", flush=True)


def ticket(user_id: int, now_ms: int) -> MatchTicket:
    return MatchTicket(
        region=REGION,
        queue_key="team1",
        user_id=user_id,
        username=f"p{user_id}",
        mmr=1000,
        server_id=1,
        enqueued_at_ms=now_ms,
        rating_mu=25.0,
        rating_sigma=8.3,
    )


async def run(filler: int, users: int, tickets: int) -> None:
    prefix = "bench"
    async with EmbeddedEndpoint() as endpoint:
        client, db = await open_database(endpoint, prefix)
        main_table = TableNames.for_prefix(prefix).main
        now = int(time.time() * 1000)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        for start in range(0, filler, 25):  # finished games' rows, as a load test leaves them
            rows = [
                {"PutRequest": {"Item": to_item({"pk": f"GAME#{n}", "sk": "META", "status": "finished", "n": n})}}
                for n in range(start, min(filler, start + 25))
            ]
            await client.call("batch_write_item", RequestItems={main_table: rows})
        made = [await db.create_user(f"user{n}", "hash", now_ms=now) for n in range(users)]
        ids = [u.user_id for u in made]
        names = {u.user_id: u.username for u in made}
        print(f"main table: {filler:,} filler items, {users:,} users; endpoint CPU µs per request:")
        print(f"{'request':<44} {'count':>5} | {'CPU µs':>10} | {'wall µs':>10}")
        await measure(endpoint.pid, "GetItem (get_user)", 400, lambda i: db.get_user(ids[i % len(ids)]))
        keys = [to_item({"pk": f"USER#{ids[n]}", "sk": "PROFILE"}) for n in range(4)]
        await measure(
            endpoint.pid,
            "BatchGetItem (4 users)",
            300,
            lambda i: client.call("batch_get_item", RequestItems={main_table: {"Keys": keys, "ConsistentRead": True}}),
        )
        queued = [ticket(user_id, now + n) for n, user_id in enumerate(ids[:tickets])]
        await measure(
            endpoint.pid, "PutItem (put_ticket)", len(queued), lambda i: db.put_ticket(queued[i], ttl_seconds=600)
        )
        await measure(
            endpoint.pid,
            f"Query (list_region_tickets, {len(queued)} queued)",
            20,
            lambda i: db.list_region_tickets(REGION, now_ms=now),
        )
        duels = [(queued[n : n + 2], 1_000_000 + n) for n in range(0, 100, 2)]
        await measure(endpoint.pid, "TransactWriteItems (claim 50 duels)", 1, lambda i: db.claim_matches(duels))
        others = [(queued[n : n + 2], 2_000_000 + n) for n in range(100, 200, 2)]
        await measure(endpoint.pid, "TransactWriteItems (claim 50 duels)", 1, lambda i: db.claim_matches(others))
        played = {user_id: 0 for user_id in ids}

        async def rate_duel(i: int) -> None:
            pair = (ids[(2 * i) % len(ids)], ids[(2 * i + 1) % len(ids)])
            await db.update_ratings(
                [
                    RatingUpdate(
                        user_id=u,
                        username=names[u],
                        mmr=1000 + i,
                        rating_mu=25.0,
                        rating_sigma=8.0,
                        games_played=played[u] + 1,
                        games_played_before=played[u],
                    )
                    for u in pair
                ]
            )
            for u in pair:
                played[u] += 1

        await measure(endpoint.pid, "TransactWriteItems (rate a duel)", 300, rate_duel)
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filler", type=int, default=20_000, help="finished games' items in the main table")
    parser.add_argument("--users", type=int, default=1_000, help="users (and at most as many tickets)")
    parser.add_argument("--tickets", type=int, default=300, help="tickets queued for the matcher's Query")
    args = parser.parse_args()
    asyncio.run(run(args.filler, args.users, min(args.tickets, args.users)))


if __name__ == "__main__":
    main()
