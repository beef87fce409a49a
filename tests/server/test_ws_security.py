"""Issue 17 over real WebSockets: each attack fails, and a normal player next to it still
gets through (its latency is printed with `pytest -s`, never asserted)."""

from __future__ import annotations

import dataclasses
import time

import aiohttp
import jwt
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from snaketron import protocol
from snaketron.client import AccountClient, GameClient
from snaketron.cluster.peers import SECRET_HEADER
from snaketron.config import DEV_CLUSTER_SECRET, DEV_JWT_SECRET
from snaketron.db import open_database
from snaketron.engine import CustomGameSettings
from snaketron.game_server import GameServer
from support.fault_proxy import FaultProxy
from support.gameplay import create_lobby, join_lobby
from support.server_fixtures import server_settings

LOBBY = CustomGameSettings(arena_width=20, arena_height=12, max_players=4, is_private=False)


def printed(label: str, started: float) -> None:
    print(f"\n[security] {label}: {(time.perf_counter() - started) * 1000:.1f} ms")


async def from_address(players, address: str) -> GameClient:
    """A connection from another loopback address (127.0.0.2, ...): a different client
    address to every per-address limit."""
    client = await GameClient.connect(players.server.ws_url, local_addr=(address, 0))
    players.clients.append(client)
    return client


async def test_an_unauthenticated_connection_is_closed_at_the_deadline(start_server):
    server = await start_server(ws_auth_deadline_seconds=1.0)  # the default is 10 s
    async with AccountClient(server.api_url) as accounts:
        player = await GameClient.connect(server.ws_url)
        idle = await GameClient.connect(server.ws_url)
        try:
            await player.authenticate((await accounts.register("deadline_ok", "secret1")).token)
            # Answering pings does not keep an unauthenticated connection open.
            await idle.send(protocol.Ping())
            assert isinstance(await idle.recv(), protocol.Pong)
            code, reason = await idle.wait_closed(timeout=30)
            assert (code, reason) == (1008, "authentication deadline passed")
            # The authenticated player next to it stays.
            started = time.perf_counter()
            await player.send(protocol.Ping())
            assert isinstance(await player.recv(), protocol.Pong)
            printed("authenticated ping after the deadline", started)
        finally:
            await player.close()
            await idle.close()


async def test_guessing_game_codes_closes_the_connection_and_slows_the_address(settings, dynamo_endpoint):
    """Defaults: 20 errors a connection, 30 unknown games a minute an address. Reads are
    counted on a proxy in front of the endpoint."""
    async with (
        FaultProxy(dynamo_endpoint) as proxy,
        open_database(dataclasses.replace(settings, dynamodb_endpoint=proxy.url)) as db,
    ):
        server = GameServer(server_settings(settings, dynamodb_endpoint=proxy.url), db)
        await server.start()
        try:
            await _guess_codes(server, proxy)
        finally:
            await server.stop()


async def _guess_codes(server: GameServer, proxy: FaultProxy) -> None:
    async with AccountClient(server.api_url) as accounts:
        tokens = [(await accounts.register(f"guess_{i}", "secret1")).token for i in range(5)]
        guesser = await GameClient.connect(server.ws_url, local_addr=("127.0.0.2", 0))
        await guesser.authenticate(tokens[0])
        # One connection: 20 unknown codes and ids are answered, the 21st closes it.
        for i in range(19):
            await guesser.send(protocol.JoinCustomGame(game_code=f"ZZ{i:06d}"))
            assert (await guesser.recv()) == protocol.AccessDenied(reason="unknown or expired game code")
        await guesser.send(protocol.JoinGame(game_id=900_000))
        assert (await guesser.recv()) == protocol.AccessDenied(reason="game not found")
        await guesser.send(protocol.JoinCustomGame(game_code="ZZ999999"))
        assert await guesser.wait_closed() == (1008, "too many invalid messages")
        # A second connection from the address: the address's budget (30 a minute, of
        # which 21 are spent) runs out; then a guess is refused without being looked up,
        # and the connection closed.
        second = await GameClient.connect(server.ws_url, local_addr=("127.0.0.2", 0))
        await second.authenticate(tokens[1])
        answered = 0
        while True:
            reads_before = proxy.counts["op:GetItem"]
            await second.send(protocol.JoinCustomGame(game_code=f"YY{answered:06d}"))
            reply = await second.recv()
            assert isinstance(reply, protocol.AccessDenied)
            if reply.reason != "unknown or expired game code":
                break
            answered += 1
            assert answered < 19, "the address budget never ran out"
        print(f"\n[security] guesses answered on the second connection: {answered} (budget left: 9 + refill)")
        assert "too many unknown games" in reply.reason
        assert await second.wait_closed() == (1008, "too many unknown game codes")
        assert proxy.counts["op:GetItem"] == reads_before  # no read for it
        # A code asked for twice within the negative cache's life costs one read.
        host = await GameClient.connect(server.ws_url, local_addr=("127.0.0.3", 0))
        await host.authenticate(tokens[2])
        reads_before = proxy.counts["op:GetItem"]
        for _ in range(2):
            await host.send(protocol.JoinCustomGame(game_code="QQ000000"))
            assert (await host.recv()) == protocol.AccessDenied(reason="unknown or expired game code")
        assert proxy.counts["op:GetItem"] - reads_before == 1
        # Players from other addresses make and join a lobby as usual.
        guest = await GameClient.connect(server.ws_url, local_addr=("127.0.0.4", 0))
        await guest.authenticate(tokens[3])
        created = await create_lobby(host, LOBBY)
        started = time.perf_counter()
        await join_lobby(guest, created.game_code)
        printed("join by code next to a guesser", started)
        for client in (guesser, second, host, guest):
            await client.close()


async def test_a_revoked_token_is_refused_on_the_websocket(players, server):
    async with AccountClient(server.api_url) as accounts, aiohttp.ClientSession() as http:
        old = (await accounts.register("revoked_1", "secret1")).token
        async with http.post(
            server.api_url + "/api/auth/password",
            json={"current_password": "secret1", "new_password": "secret2"},
            headers={"Authorization": f"Bearer {old}"},
        ) as resp:
            assert resp.status == 200
            new = (await resp.json())["token"]
    stale = await players.connect()
    await stale.send(protocol.Token(token=old))
    assert (await stale.recv()) == protocol.AccessDenied(reason="invalid token")
    assert await stale.wait_closed() == (1008, "invalid token")
    fresh = await players.connect()
    started = time.perf_counter()
    await fresh.authenticate(new)
    printed("authentication with the new token", started)


async def test_production_mode_refuses_the_published_secrets(start_server):
    strong = "a-production-secret-of-at-least-32-bytes"
    server = await start_server(dev_mode_setting="0", jwt_secret=strong, cluster_secret=strong + "-cluster")
    assert not server.settings.dev_mode
    forged = jwt.encode(
        {"sub": "1", "username": "anyone", "iat": int(time.time()), "exp": int(time.time()) + 60},
        DEV_JWT_SECRET,
        algorithm="HS256",
    )
    async with AccountClient(server.api_url) as accounts, aiohttp.ClientSession() as http:
        real = await accounts.register("prod_player", "secret1")
        async with http.get(server.api_url + "/api/auth/me", headers={"Authorization": f"Bearer {forged}"}) as resp:
            assert (resp.status, await resp.json()) == (401, {"error": "invalid token"})
    client = await GameClient.connect(server.ws_url)
    try:
        await client.send(protocol.Token(token=forged))
        assert (await client.recv()) == protocol.AccessDenied(reason="invalid token")
    finally:
        await client.close()
    # The relay endpoint with the published cluster secret: refused at the handshake.
    relay = server.internal_url
    try:
        async with connect(relay, additional_headers={SECRET_HEADER: DEV_CLUSTER_SECRET}, open_timeout=10):
            raise AssertionError("relay handshake accepted with the development secret")
    except InvalidStatus as exc:
        assert exc.response.status_code == 403
    player = await GameClient.connect(server.ws_url)
    try:
        started = time.perf_counter()
        await player.authenticate(real.token)
        printed("production-mode authentication", started)
    finally:
        await player.close()
