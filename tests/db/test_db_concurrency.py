"""Races: concurrent registrations of one name, id allocation from two processes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from snaketron.db.codec import from_item
from snaketron.db.errors import UsernameTaken

ALLOCATE = Path(__file__).parent.parent / "support" / "allocate_ids.py"


async def test_fifty_concurrent_registrations_of_one_name(db):
    names = [("mallory"[: i % 7 + 1].upper() + "mallory"[i % 7 + 1 :]) for i in range(50)]
    assert len(set(names)) == 7 and len({n.lower() for n in names}) == 1
    outcomes = await asyncio.gather(
        *(db.create_user(name, f"hash-{i}", now_ms=i) for i, name in enumerate(names)), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, UsernameTaken) for o in losers)

    # No orphans: exactly one user item and one name claim, and they agree.
    users = await db.client.call(
        "query",
        TableName=db.tables.main,
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :u",
        ExpressionAttributeValues={":u": {"S": "USER"}},
    )
    claims = await db.client.call("scan", TableName=db.tables.usernames)
    assert [from_item(i)["userId"] for i in users["Items"]] == [winners[0].user_id]
    assert [from_item(i) for i in claims["Items"]] == [
        {"username": "mallory", "userId": winners[0].user_id, "passwordHash": winners[0].password_hash, "mmr": 1000}
    ]
    assert (await db.get_user_by_username("MaLLoRy")).user_id == winners[0].user_id


async def test_two_processes_allocate_ids_without_duplicates(settings, db):
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(ALLOCATE),
            settings.dynamodb_endpoint,
            settings.table_prefix,
            "300",
            "7",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for p in processes:
        assert await p.stdout.readline() == b"ready\n"
    for p in processes:  # both connected: start them together
        p.stdin.write(b"go\n")
        await p.stdin.drain()
    outputs = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    first, second = ([int(line) for line in out.split()] for out, _ in outputs)
    assert len(first) == len(second) == 300
    assert not set(first) & set(second)
    assert len(set(first)) == 300 and len(set(second)) == 300
    # A restarted allocator (this process) continues past both: ids are never reused.
    later = await db.next_id("game")
    assert later > max(first + second)
