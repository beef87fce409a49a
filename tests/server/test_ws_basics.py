"""Connection basics over real WebSockets: ping, clock sync, tokens, bad frames."""

from __future__ import annotations

import time

import jwt

from snaketron import protocol
from snaketron.client import GameClient


async def test_ping_and_clock_sync_before_auth(players):
    client = await players.connect()
    await client.send(protocol.Ping())
    assert isinstance(await client.recv(), protocol.Pong)
    before = int(time.time() * 1000)
    await client.send(protocol.ClockSyncRequest(client_time=123))
    reply = await client.expect(protocol.ClockSyncResponse)
    assert reply.client_time == 123
    assert before - 5 <= reply.server_time <= int(time.time() * 1000) + 5


async def test_valid_token_authenticates(players):
    client = await players.new("alice_1")
    assert client.username == "alice_1"
    assert client.user_id > 0


async def _refused(players, token: str) -> tuple[protocol.AccessDenied, int | None]:
    client = await players.connect()
    await client.send(protocol.Token(token=token))
    denied = await client.recv()
    assert isinstance(denied, protocol.AccessDenied), denied
    code, _ = await client.wait_closed()
    return denied, code


async def test_bad_expired_and_tampered_tokens_are_refused_and_closed(players, server):
    good = (await players.new()).token
    secret = server.settings.effective_jwt_secret()
    claims = jwt.decode(good, secret, algorithms=["HS256"])
    expired = jwt.encode({**claims, "iat": 1, "exp": 2}, secret, algorithm="HS256")
    other_user = jwt.encode(
        {**claims, "sub": str(claims["sub"]) + "9"}, "not-the-secret-at-all-0123456789", algorithm="HS256"
    )
    head, body, sig = good.split(".")
    tampered = ".".join([head, body[:-2] + ("AA" if body[-2:] != "AA" else "BB"), sig])
    unknown_user = jwt.encode({**claims, "sub": "999999"}, secret, algorithm="HS256")
    for token in ("garbage", expired, other_user, tampered, unknown_user):
        denied, code = await _refused(players, token)
        assert denied.reason == "invalid token"  # nothing about which check failed
        assert code == 1008


async def test_malformed_frames_get_error_and_connection_lives(players):
    client = await players.connect()
    cases = [
        ("{not json", "invalid_json"),
        ('{"Teleport": {}}', "unknown_message"),
        ('"Dance"', "unknown_message"),
        ('{"JoinGame": "seven"}', "invalid_message"),
        ('{"JoinGame": 1, "LeaveGame": null}', "invalid_message"),
        ("[1, 2, 3]", "invalid_message"),
        (b"\x00\x01binary", "binary_frame"),
        ('"CreateSoloGame"', "wrong_state"),  # not authenticated yet
    ]
    for frame, code in cases:
        await client.send_raw(frame)
        reply = await client.recv()
        assert isinstance(reply, protocol.Error), (frame, reply)
        assert reply.code == code, (frame, reply)
    await client.send(protocol.Ping())
    assert isinstance(await client.recv(), protocol.Pong)


async def test_wrong_state_changes_nothing(players):
    client = await players.new()
    await client.send(protocol.StartCustomGame())
    reply = await client.recv()
    assert isinstance(reply, protocol.Error) and reply.code == "wrong_state"
    await client.send(protocol.Token(token=client.token))
    reply = await client.recv()
    assert isinstance(reply, protocol.Error) and reply.code == "wrong_state"
    # Still authenticated: a solo game can be created.
    await client.send(protocol.CreateSoloGame())
    await client.expect(protocol.SoloGameCreated)


async def test_oversized_frame_gets_error_then_flood_closes_1008(start_server):
    server = await start_server(max_frame_bytes=1024, max_errors_before_close=3)
    client = await GameClient.connect(server.ws_url)
    await client.send_raw('"' + "x" * 2000 + '"')
    reply = await client.recv()
    assert isinstance(reply, protocol.Error) and reply.code == "frame_too_large"
    for _ in range(10):
        await client.send_raw('"' + "x" * 2000 + '"')
    code, _ = await client.wait_closed()
    assert code == 1008


async def test_message_flood_is_rate_limited_then_closed(start_server):
    server = await start_server(msg_rate_per_sec=5, msg_burst=5, max_errors_before_close=5)
    client = await GameClient.connect(server.ws_url)
    for _ in range(40):
        await client.send(protocol.Ping())
    kinds = []
    code, _ = None, ""
    try:
        while True:
            kinds.append(type(await client.recv(timeout=5)).__name__)
    except Exception:
        code, _ = await client.wait_closed()
    assert kinds.count("Pong") == 5
    assert "Error" in kinds
    assert code == 1008


async def test_connection_cap_per_address(start_server):
    server = await start_server(max_connections_per_ip=2)
    first = await GameClient.connect(server.ws_url)
    second = await GameClient.connect(server.ws_url)
    third = await GameClient.connect(server.ws_url)
    code, reason = await third.wait_closed()
    assert code == 1008 and "too many connections" in reason
    await first.send(protocol.Ping())
    assert isinstance(await first.recv(), protocol.Pong)
    await first.close()
    await second.close()
