"""Three `snaketron serve` processes of one region: registration and liveness, load
balancing of new lobbies, and one lobby played from all three servers at once."""

from __future__ import annotations

import collections

import aiohttp
import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from cluster.fleet import Cluster, ServerProcess, eventually
from snaketron import protocol
from snaketron.cluster import RELAY_PATH
from snaketron.db.errors import NotFound
from snaketron.engine import CustomGameSettings, type_free_for_all
from support.gameplay import create_lobby, events_until_complete, join_lobby, snapshot

QUICK = CustomGameSettings(arena_width=20, arena_height=12, tick_duration_ms=40, max_players=2)


async def servers_seen_by(server: ServerProcess, region: str = "") -> dict:
    query = f"?region={region}" if region else ""
    async with aiohttp.ClientSession() as http, http.get(f"{server.api_url}/api/servers{query}") as response:
        assert response.status == 200
        return await response.json()


async def all_see_each_other(trio: Cluster) -> bool:
    expected = sorted(s.server_id for s in trio.fleet.servers)
    for server in trio.fleet.servers:
        listed = await servers_seen_by(server)
        if sorted(s["id"] for s in listed["servers"]) != expected:
            return False
    return True


async def test_three_servers_register_and_are_live_in_one_region(trio: Cluster):
    a, b, c = trio.fleet.servers
    await eventually(lambda: all_see_each_other(trio))
    listed = await servers_seen_by(b, region="local")
    assert listed["region"] == "local"
    by_id = {s["id"]: s for s in listed["servers"]}
    for server in (a, b, c):
        entry = by_id[server.server_id]
        assert entry["status"] == "active"
        assert entry["ws_url"] == server.ws_url and entry["api_url"] == server.api_url
        assert entry["capacity"] > 0 and entry["games"] == 0
    assert (await servers_seen_by(a, region="elsewhere"))["servers"] == []

    # The registry behind the route: one GSI2 query gives the live servers of the region.
    live = await trio.db.list_live_servers("local", now_ms=by_id[a.server_id]["last_heartbeat_ms"], freshness_ms=3_000)
    assert sorted(s.server_id for s in live) == sorted(by_id)
    assert all(s.internal_url.endswith(RELAY_PATH) for s in live)


async def test_internal_endpoints_refuse_requests_without_the_cluster_secret(trio: Cluster):
    a = trio.fleet.servers[0]
    relay_url = a.ws_url.removesuffix("/ws") + RELAY_PATH
    for headers in ({}, {"X-SnakeTron-Cluster-Secret": "wrong", "X-SnakeTron-User-Id": "1"}):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(relay_url, additional_headers=headers, proxy=None):
                pass
        assert refused.value.response.status_code == 403
    # Nor does a server host a match for anyone who lacks it.
    async with aiohttp.ClientSession() as http, http.post(f"{a.api_url}/internal/matches", data=b"{}") as response:
        assert response.status == 403


async def test_balancer_spreads_ten_new_lobbies_across_the_servers(trio: Cluster):
    a = trio.fleet.servers[0]
    await eventually(lambda: all_see_each_other(trio))
    hosts: collections.Counter[int] = collections.Counter()
    order = []
    creators = []
    for _ in range(10):
        creator = await trio.player(a)  # every request arrives at server A
        created = await create_lobby(creator, QUICK)
        lobby = await trio.db.get_lobby(created.game_code, now_ms=0)
        hosts[lobby.server_id] += 1
        order.append(lobby.server_id)
        creators.append(creator)
    assert sorted(hosts) == sorted(s.server_id for s in trio.fleet.servers), hosts
    assert max(hosts.values()) - min(hosts.values()) <= 1, f"placement by load: {order}"

    # The heartbeats carry the load: /api/servers shows where the lobbies are.
    async def reported() -> bool:
        listed = await servers_seen_by(a)
        return {s["id"]: s["games"] for s in listed["servers"]} == dict(hosts)

    await eventually(reported)
    for creator in creators:
        await creator.close()
    trio.clients.clear()


async def test_lobby_hosted_on_one_server_is_played_and_watched_from_all_three(trio: Cluster):
    servers = {s.server_id: s for s in trio.fleet.servers}
    creator = await trio.player(trio.fleet.servers[0])
    created = await create_lobby(creator, QUICK)
    host_id = (await trio.db.get_lobby(created.game_code, now_ms=0)).server_id
    others = [s for sid, s in servers.items() if sid != host_id]
    # The joiner and the spectator are on the two servers that do not host the game, so
    # both are relayed; the creator is local when the balancer kept the lobby on its server.
    joiner = await trio.player(others[0])
    spectator = await trio.player(others[1])

    joined = await join_lobby(joiner, created.game_code.lower())
    assert joined.game_id == created.game_id
    await spectator.send(protocol.SpectateGame(game_id=created.game_id, game_code=created.game_code))
    await spectator.expect(protocol.SpectatorJoined)
    watched = (await snapshot(spectator)).event.Snapshot.game_state
    assert sorted(watched.players) == sorted([creator.user_id, joiner.user_id])

    await joiner.send(protocol.Chat(text="hello from another server"))
    for member in (creator, joiner, spectator):
        chat = await member.expect(protocol.ChatMessage)
        assert (chat.user_id, chat.text) == (joiner.user_id, "hello from another server")

    await creator.send(protocol.StartCustomGame())
    streams = []
    for member in (creator, joiner, spectator):
        await member.expect(protocol.CustomGameStarting)
        started = await snapshot(member)
        assert started.event.Snapshot.game_state.status.Started.server_id == host_id
        events = [started, *await events_until_complete(member)]
        streams.append([msgspec.json.encode(e) for e in events])
    assert streams[0] == streams[1] == streams[2], "all three servers pass on the same events"

    # After the game the relayed client goes on as any client would: a solo game.
    await joiner.send(protocol.CreateSoloGame())
    solo = await joiner.expect(protocol.SoloGameCreated)
    await joiner.send(protocol.JoinGame(game_id=solo.game_id))
    assert list((await snapshot(joiner)).event.Snapshot.game_state.players) == [joiner.user_id]

    await trio.db.flush()

    async def recorded():
        stored = await trio.db.get_game(created.game_id)
        return stored if stored.game.status == "complete" else None

    stored = await eventually(recorded)
    assert stored.game.server_id == host_id
    assert sorted(p.user_id for p in stored.players) == sorted([creator.user_id, joiner.user_id])
    assert [s.user_id for s in stored.spectators] == [spectator.user_id]


async def test_a_lobby_on_a_server_newer_than_the_joiners_view_is_joined_by_its_code(cluster: Cluster):
    """A server refreshes its view of the region once a heartbeat (5 s by default). A player
    whose server has not refreshed since another server started must still reach a lobby
    hosted there: the code names a host, so the view is read again before the join is refused."""
    slow = {"SNAKETRON_HEARTBEAT_SECONDS": "60"}  # no refresh during the test unless one is asked for
    (a,) = await cluster.start("A", **slow)
    (b,) = await cluster.start("B", **slow)  # registered after A's last refresh: A's view lacks B
    assert [s["id"] for s in (await servers_seen_by(a))["servers"]] == [a.server_id]
    creator = await cluster.player(b)
    created = await create_lobby(creator, QUICK)
    assert (await cluster.db.get_lobby(created.game_code, now_ms=0)).server_id == b.server_id  # a tie stays on B

    joiner = await cluster.player(a)
    joined = await join_lobby(joiner, created.game_code)
    assert joined.game_id == created.game_id
    state = (await snapshot(creator)).event.Snapshot.game_state
    assert sorted(state.players) == sorted([creator.user_id, joiner.user_id])
    assert sorted(s["id"] for s in (await servers_seen_by(a))["servers"]) == sorted([a.server_id, b.server_id])


async def test_a_full_server_places_new_games_on_one_with_room(cluster: Cluster):
    """SNAKETRON_MAX_GAMES reached here: a new solo game or lobby goes to a server of the
    region with room; with none, it is refused."""
    (a,) = await cluster.start("A", SNAKETRON_MAX_GAMES="1")
    (b,) = await cluster.start("B", SNAKETRON_MAX_GAMES="1")

    async def both_seen():
        seen = {s["id"] for s in (await servers_seen_by(a))["servers"]}
        return seen if seen == {a.server_id, b.server_id} else None

    await eventually(both_seen)
    first, second, third = [await cluster.player(a) for _ in range(3)]
    hosts = []
    for player in (first, second):
        await player.send(protocol.CreateSoloGame())
        created = await player.expect(protocol.SoloGameCreated)
        await player.send(protocol.JoinGame(game_id=created.game_id))
        hosts.append((await snapshot(player)).event.Snapshot.game_state.status.Started.server_id)
    assert hosts == [a.server_id, b.server_id]  # A took the first; full, it sent the second to B
    await third.send(protocol.CreateCustomGame(settings=QUICK))
    denied = await third.expect(protocol.AccessDenied)
    assert "this server is full" in denied.reason


async def test_matched_game_is_hosted_by_the_least_loaded_server(trio: Cluster):
    a, b, c = trio.fleet.servers

    async def loads() -> dict[int, int]:
        listed = await servers_seen_by(a)
        return {s["id"]: s["games"] for s in listed["servers"]}

    await eventually(lambda: _all_zero(loads))  # what earlier tests left has ended
    # Two lobbies created on A: one stays on A, one goes to B or C (ties: lowest id). The
    # third server is then the least loaded when A's matcher places the match.
    lobbies = []
    for _ in range(2):
        creator = await trio.player(a)
        created = await create_lobby(creator, QUICK)
        lobbies.append((await trio.db.get_lobby(created.game_code, now_ms=0)).server_id)
    assert lobbies[0] == a.server_id and lobbies[1] in (b.server_id, c.server_id)
    (idle,) = [s for s in (b, c) if s.server_id != lobbies[1]]
    expected = {server.server_id: int(server.server_id in lobbies) for server in (a, b, c)}
    for server in (a, b, c):  # whichever holds the matcher lease must know the loads
        await eventually(lambda server=server: _loads_are(server, expected))

    first, second = await trio.player(a), await trio.player(b)
    for player in (first, second):
        await player.send(protocol.QueueForMatch(game_type=type_free_for_all(2)))
    found = [await player.expect(protocol.MatchFound, timeout=10) for player in (first, second)]
    assert found[0].game_id == found[1].game_id
    for player in (first, second):
        await player.send(protocol.JoinGame(game_id=found[0].game_id))
        state = (await snapshot(player)).event.Snapshot.game_state
        assert sorted(state.players) == sorted([first.user_id, second.user_id])
    started = [await snapshot(player, timeout=10) for player in (first, second)]
    assert {s.event.Snapshot.game_state.status.Started.server_id for s in started} == {idle.server_id}
    stored = await eventually(lambda: _game_of(trio, found[0].game_id))
    assert stored.game.server_id == idle.server_id and stored.game.game_mode == "matchmaking"


async def _all_zero(loads) -> bool:
    return not any((await loads()).values())


async def _loads_are(server: ServerProcess, expected: dict[int, int]) -> bool:
    listed = await servers_seen_by(server)
    return {s["id"]: s["games"] for s in listed["servers"]} == expected


async def _game_of(trio: Cluster, game_id: int):
    try:
        return await trio.db.get_game(game_id)
    except NotFound:
        return None
