"""GET /metrics over real HTTP after a game played over a real WebSocket, read with
prometheus_client's own parser: the counters a played game moves have moved."""

from __future__ import annotations

import aiohttp

from snaketron import protocol
from snaketron.engine import Direction
from support.gameplay import events_until_complete, snapshot, turn
from support.metrics_scrape import scrape, total


async def play_solo_game(client) -> int:
    await client.send(protocol.CreateSoloGame())
    created = await client.expect(protocol.SoloGameCreated)
    await client.send(protocol.JoinGame(game_id=created.game_id))
    first = await snapshot(client)
    await client.send(turn(client, Direction.UP, first.tick))  # the wall is 21 cells up
    await events_until_complete(client)
    return created.game_id


async def test_metrics_move_with_a_played_game(server, players, start_server):
    before = await scrape(server)
    client = await players.new()
    game_id = await play_solo_game(client)
    # The result is written, then the listeners queue the game's history (its replay).
    await server.rooms.wait_result(game_id, 10.0)
    await server.db.flush()
    after = await scrape(server)

    for name in (
        "snaketron_frames_sent_total",
        "snaketron_sent_bytes_total",
        "snaketron_commands_received_total",
        "snaketron_ticks_total",
        "snaketron_games_finished_total",
        "snaketron_tick_lateness_seconds_count",
        "snaketron_tick_duration_seconds_count",
        "snaketron_dynamodb_requests_total",
        "snaketron_batch_writer_written_items_total",
    ):
        assert total(after, name) > total(before, name), name
    assert total(after, "snaketron_commands_rejected_total") == 0
    # Registration: an HTTP request by route and status, and the DynamoDB transaction it made.
    assert total(after, "snaketron_http_requests_total", route="/api/auth/register", status="200") == 1
    assert total(after, "snaketron_dynamodb_requests_total", operation="transact_write_items") >= 1
    assert total(after, "snaketron_dynamodb_request_seconds_count", operation="transact_write_items") >= 1
    # The game is over; its player is still connected (in the finished game until it leaves).
    assert total(after, "snaketron_games_running") == 0
    assert total(after, "snaketron_connected_clients") == 1
    assert total(after, "snaketron_players_in_games") == 0
    assert total(after, "process_resident_memory_bytes") > 0
    assert total(after, "snaketron_batch_writer_pending_items") == 0

    # A second server in the same process keeps its own figures.
    other = await start_server()
    assert total(await scrape(other), "snaketron_frames_sent_total") == 0


async def test_running_game_and_players_are_gauges(server, players):
    client = await players.new()
    await client.send(protocol.CreateSoloGame())
    created = await client.expect(protocol.SoloGameCreated)
    await client.send(protocol.JoinGame(game_id=created.game_id))
    await snapshot(client)
    samples = await scrape(server)
    assert total(samples, "snaketron_games_running", kind="solo") == 1
    assert total(samples, "snaketron_players_in_games") == 1
    assert total(samples, "snaketron_connected_clients", state="InGame") == 1


async def test_refusals_are_counted(start_server, players):
    server = await start_server(api_rate_per_min=1)
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(2):
            async with http.post(f"{server.api_url}/api/auth/check-username", json={"username": "someone"}) as r:
                statuses.append(r.status)
        async with http.get(f"{server.api_url}/no/such/page") as r:
            statuses.append(r.status)
    assert statuses == [200, 429, 404]
    samples = await scrape(server)
    assert total(samples, "snaketron_rate_limit_refusals_total", scope="api") == 1
    assert total(samples, "snaketron_http_requests_total", route="/api/auth/check-username", status="429") == 1
    # An unknown path is counted under one label, never by the path a client chose.
    assert total(samples, "snaketron_http_requests_total", route="unmatched", status="404") == 1


async def test_metrics_can_be_switched_off(start_server):
    server = await start_server(metrics_enabled=False)
    async with aiohttp.ClientSession() as http, http.get(f"{server.api_url}/metrics") as response:
        assert response.status == 404
