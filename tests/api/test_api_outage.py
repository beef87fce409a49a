"""The account API when DynamoDB cannot be reached: 503, never 500, and no hang."""

import asyncio
import dataclasses
import socket

import pytest

from snaketron.db.client import DynamoClient
from snaketron.db.dynamo import DynamoDatabase

# What health says of a configured endpoint that does not answer.
UNAVAILABLE = {"endpoint": "configured", "state": "unavailable", "restarts": 0, "dataLostAtMs": None}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def dead_db(settings):
    """A real DynamoDatabase whose endpoint refuses every connection."""
    dead = dataclasses.replace(
        settings,
        dynamodb_endpoint=f"http://127.0.0.1:{closed_port()}",
        db_retry_attempts=2,
        db_retry_base_ms=1,
        db_retry_max_ms=5,
        db_deadline_ms=500,
        db_connect_timeout=0.2,
    )
    client = DynamoClient(dead)
    await client.start()
    database = DynamoDatabase(client, dead)
    yield database
    await database.close()


async def test_every_endpoint_answers_503_while_the_database_is_down(start_api_server, dead_db):
    api = await start_api_server(database=dead_db)
    status, body, _ = await api.get("/api/health")
    assert status == 503
    assert body == {"error": "Database unavailable", "database": UNAVAILABLE}

    token = api.tokens.issue(1, "someone")
    calls = [
        api.register("OutageUser", "secret1"),
        api.login("OutageUser", "secret1"),
        api.post("/api/auth/check-username", {"username": "OutageUser"}),
        api.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}),
    ]
    for call in calls:
        status, body, resp = await call
        assert status == 503
        assert body == {"error": "Database unavailable, try again shortly"}
        assert resp.headers["Retry-After"]
    # Bad input is still judged before the database is asked.
    assert (await api.register("x", "secret1"))[0] == 400


async def test_an_outage_does_not_count_as_a_failed_login(start_api_server, dead_db):
    api = await start_api_server(database=dead_db, login_max_failures=2)
    for _ in range(4):
        assert (await api.login("Someone", "secret1"))[0] == 503


@pytest.fixture
async def silent_endpoint():
    """A TCP endpoint on 127.0.0.1 that accepts connections and never answers."""
    release = asyncio.Event()

    async def hold(reader, writer):
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    release.set()
    server.close()
    await server.wait_closed()


async def test_health_answers_503_in_time_when_the_database_hangs(start_api_server, settings, silent_endpoint):
    hanging = dataclasses.replace(
        settings, dynamodb_endpoint=silent_endpoint, db_read_timeout=30.0, db_deadline_ms=30_000
    )
    client = DynamoClient(hanging)
    await client.start()
    database = DynamoDatabase(client, hanging)
    try:
        api = await start_api_server(database=database, api_health_timeout_seconds=0.2)
        status, body, _ = await asyncio.wait_for(api.get("/api/health"), timeout=10)
        assert status == 503
        assert body == {"error": "Database unavailable", "database": UNAVAILABLE}
    finally:
        await database.close()
