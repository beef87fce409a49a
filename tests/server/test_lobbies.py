"""Custom lobbies over real connections: codes, seats, host powers, start, refusals."""

from __future__ import annotations

import asyncio

import aiohttp
import msgspec
import pytest

from snaketron import protocol
from snaketron.db.errors import NotFound
from snaketron.engine import CustomGameSettings, GameEventMessage
from snaketron.games import wall_clock_ms
from support.gameplay import create_lobby, events_until_complete, expect_denied, join_lobby, snapshot, state_where

FAST = CustomGameSettings(arena_width=20, arena_height=12, tick_duration_ms=30, max_players=4, is_private=False)


async def test_lobby_from_creation_to_finished_game(players, db):
    host, second, third = [await players.new() for _ in range(3)]
    created = await create_lobby(host, FAST)
    assert len(created.game_code) == 8 and created.game_code.isalnum() and created.game_code.isupper()
    joined = await join_lobby(second, created.game_code.lower())  # codes are case-insensitive
    assert joined.game_id == created.game_id
    seen_by_host = await snapshot(host)
    assert len(seen_by_host.event.Snapshot.game_state.arena.snakes) == 2
    await join_lobby(third, created.game_code)

    await host.send(protocol.UpdateCustomGameSettings(settings=protocol.CustomGameSettingsPatch(max_players=3)))
    for member in (host, second, third):
        update = await member.expect(protocol.CustomGameSettingsUpdated)
        assert update.settings.max_players == 3 and update.settings.arena_width == 20
        state = (await snapshot(member)).event.Snapshot.game_state
        assert len(state.arena.snakes) == 3
        assert state.usernames[host.user_id] == host.username

    await host.send(protocol.StartCustomGame())
    finals = []
    for member in (host, second, third):
        await member.expect(protocol.CustomGameStarting)
        started = await snapshot(member)
        assert started.event.Snapshot.game_state.status.Started is not None
        events = await events_until_complete(member)
        finals.append([(e.sequence, e.event.tag) for e in events if e.event.tag != "Snapshot"])
    assert finals[0] == finals[1] == finals[2], "every member sees the same event stream"

    await db.flush()
    stored = await db.get_game(created.game_id)
    assert stored.game.status == "complete" and stored.game.game_code == created.game_code
    assert sorted(p.user_id for p in stored.players) == sorted(c.user_id for c in (host, second, third))
    # Nobody steered: the three snakes, laid out alike, ran into the walls in one tick, a
    # three-way draw (equal places).
    assert sorted(p.placement for p in stored.players) == [1, 1, 1]


async def test_lobby_refusals(players):
    host, guest, late = [await players.new() for _ in range(3)]
    await expect_denied(host, protocol.CreateCustomGame(settings=CustomGameSettings(arena_width=5)), "arena_width")
    await expect_denied(guest, protocol.JoinCustomGame(game_code="NOSUCH00"), "unknown or expired")

    created = await create_lobby(host, CustomGameSettings(arena_width=20, arena_height=12, max_players=2))
    await expect_denied(host, protocol.StartCustomGame(), "at least 2 players")
    await join_lobby(guest, created.game_code)
    await expect_denied(late, protocol.JoinCustomGame(game_code=created.game_code), "full")
    patch = protocol.CustomGameSettingsPatch(arena_width=30)
    await expect_denied(guest, protocol.UpdateCustomGameSettings(settings=patch), "only the host")
    await expect_denied(guest, protocol.StartCustomGame(), "only the host")
    bad = protocol.CustomGameSettingsPatch(tick_duration_ms=5)
    await expect_denied(host, protocol.UpdateCustomGameSettings(settings=bad), "tick_duration_ms")
    await expect_denied(
        host,
        protocol.UpdateCustomGameSettings(settings=protocol.CustomGameSettingsPatch(max_players=1)),
        "already in the lobby",
    )

    await host.send(protocol.StartCustomGame())
    await host.expect(protocol.CustomGameStarting)
    await expect_denied(late, protocol.JoinCustomGame(game_code=created.game_code), "already started")
    await expect_denied(host, protocol.StartCustomGame(), "already started")


# Past every bound a client could mean: DynamoDB stores no number past 9.9e125 or nearer
# to 0 than 1e-130, and 100 food a minute is the ceiling (1e400, past a double, is already
# an `invalid_message`).
OUT_OF_RANGE_FOOD = ("1e200", "1e-200", "-1", "100.5", "0.001")


async def denied_raw(client, frame: str) -> str:
    """The AccessDenied reason a raw frame gets (a lobby's snapshots in flight skipped)."""
    await client.send_raw(frame)
    reply = await client.recv()
    while isinstance(reply, GameEventMessage):
        reply = await client.recv()
    assert isinstance(reply, protocol.AccessDenied), reply
    return reply.reason


async def test_out_of_range_food_spawn_rate_is_refused_and_changes_nothing(players, db):
    host = await players.new()
    transactions = db.metrics.requests["transact_write_items"]
    for rate in OUT_OF_RANGE_FOOD:
        reason = await denied_raw(host, '{"CreateCustomGame": {"settings": {"food_spawn_rate": ' + rate + "}}}")
        assert reason == "food_spawn_rate must be 0 or between 0.01 and 100"
    assert db.metrics.requests["transact_write_items"] == transactions, "a refused lobby was tried"

    created = await create_lobby(host, FAST)
    for rate in OUT_OF_RANGE_FOOD:
        frame = '{"UpdateCustomGameSettings": {"settings": {"food_spawn_rate": ' + rate + "}}}"
        assert "food_spawn_rate" in await denied_raw(host, frame)
    # The lobby kept its settings: the next accepted change shows them whole.
    await host.send(protocol.UpdateCustomGameSettings(settings=protocol.CustomGameSettingsPatch(arena_width=30)))
    update = await host.expect(protocol.CustomGameSettingsUpdated)
    assert update.settings == msgspec.structs.replace(FAST, arena_width=30)
    for edge in (0.0, 0.01, 100.0):  # the bounds themselves are settings like any other
        patch = protocol.CustomGameSettingsPatch(food_spawn_rate=edge)
        await host.send(protocol.UpdateCustomGameSettings(settings=patch))
        assert (await host.expect(protocol.CustomGameSettingsUpdated)).settings.food_spawn_rate == edge

    await db.flush()
    assert db.writer.metrics.rejected == 0, "DynamoDB refused a write of the lobby's game"
    stored = await db.get_game(created.game_id)
    assert stored.game.game_type["Custom"]["settings"]["food_spawn_rate"] == 100.0


async def test_a_game_mode_seating_fewer_than_are_seated_is_refused_and_changes_nothing(players):
    """Solo seats one and Duel two, whatever max_players says: the host is refused as for
    max_players, keeps the connection, and nobody sees a change."""
    host, second, third = [await players.new() for _ in range(3)]
    created = await create_lobby(host, FAST)
    await join_lobby(second, created.game_code)
    await join_lobby(third, created.game_code)
    await state_where(host, lambda state: len(state.players) == 3)

    def mode(game_mode: str) -> protocol.UpdateCustomGameSettings:
        return protocol.UpdateCustomGameSettings(settings=protocol.CustomGameSettingsPatch(game_mode=game_mode))

    await expect_denied(host, mode("Solo"), "3 players are already in the lobby; these settings seat 1")
    await expect_denied(host, mode("Duel"), "3 players are already in the lobby; these settings seat 2")
    # Unchanged: the next change anyone sees is the next accepted one, on the old mode.
    await host.send(protocol.UpdateCustomGameSettings(settings=protocol.CustomGameSettingsPatch(arena_width=30)))
    for member in (host, second, third):
        update = await member.expect(protocol.CustomGameSettingsUpdated)
        assert update.settings == msgspec.structs.replace(FAST, arena_width=30)
        assert len((await state_where(member, lambda state: state.arena.width == 30)).players) == 3

    await third.send(protocol.LeaveGame())
    await state_where(host, lambda state: len(state.players) == 2)
    await expect_denied(host, mode("Solo"), "2 players are already in the lobby; these settings seat 1")
    await host.send(mode("Duel"))  # two seated, two seats
    assert (await second.expect(protocol.CustomGameSettingsUpdated)).settings.game_mode == "Duel"
    await host.send(protocol.StartCustomGame())
    await second.expect(protocol.CustomGameStarting)


async def test_host_leaving_passes_the_lobby_on_and_last_leaver_closes_it(players):
    host, guest, other = [await players.new() for _ in range(3)]
    created = await create_lobby(host, FAST)
    await join_lobby(guest, created.game_code)
    await host.send(protocol.LeaveGame())
    state = (await snapshot(guest)).event.Snapshot.game_state
    assert state.host_user_id == guest.user_id
    assert list(state.players) == [guest.user_id]
    # The new host has the host's powers; the old one is back to Authenticated.
    await guest.send(protocol.UpdateCustomGameSettings(settings=protocol.CustomGameSettingsPatch(arena_width=30)))
    assert (await guest.expect(protocol.CustomGameSettingsUpdated)).settings.arena_width == 30
    await host.send(protocol.CreateSoloGame())
    await host.expect(protocol.SoloGameCreated)

    await guest.close()  # disconnecting frees the last seat: the lobby closes
    # The server handles the disconnect on its own schedule: ask until it has.
    for _ in range(50):
        await other.send(protocol.JoinCustomGame(game_code=created.game_code))
        reply = await other.recv()
        if isinstance(reply, protocol.AccessDenied):
            assert "unknown or expired" in reply.reason
            break
        # The close had not been processed yet: leave again and retry.
        await other.expect(GameEventMessage)
        await other.send(protocol.LeaveGame())
    else:
        raise AssertionError("the lobby never closed")


async def api_get(server, path: str, token: str) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.api_url}{path}", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        return response.status, await response.json()


async def test_a_lobby_closed_before_its_start_leaves_no_game_behind(server, players, db):
    """Seats given up take their rows with them, and the last one out takes the game: a
    lobby never played is neither listed as waiting nor kept (docs/DATA_MODEL.md). All of
    it rides on the batch writer: no request of its own per item."""
    host, guest, watcher = [await players.new() for _ in range(3)]
    created = await create_lobby(host, FAST)
    await join_lobby(guest, created.game_code)
    await watcher.send(protocol.SpectateGame(game_id=created.game_id, game_code=created.game_code))
    await watcher.expect(protocol.SpectatorJoined)
    await db.flush()
    status, body = await api_get(server, "/api/games?status=waiting", watcher.token)
    assert created.game_id in [g["game_id"] for g in body["games"]]

    await guest.send(protocol.LeaveGame())
    await state_where(host, lambda state: len(state.players) == 1)
    await db.flush()
    assert [p.user_id for p in (await db.get_game(created.game_id)).players] == [host.user_id]

    deletes, accepted = db.metrics.requests["delete_item"], db.writer.metrics.accepted
    await host.send(protocol.LeaveGame())
    await host.send(protocol.Ping())
    await host.expect(protocol.Pong)  # the leave, handled before the Ping, closed the lobby
    await server.tasks.wait(5)  # the lobby item's delete
    await db.flush()
    assert db.writer.metrics.accepted == accepted + 3  # the game item, the host's and the watcher's rows
    assert db.metrics.requests["delete_item"] == deletes
    assert await db.read_game_partition(created.game_id) == []
    # What GET /api/games?status=waiting lists (its answer is shared for a second, so the
    # listing itself may show the lobby a moment longer): the stored waiting games.
    waiting = (await db.list_games_by_status("waiting")).items
    assert created.game_id not in [g.game_id for g in waiting]
    status, _ = await api_get(server, f"/api/games/{created.game_id}", watcher.token)
    assert status == 404
    with pytest.raises(NotFound):
        await db.get_lobby(created.game_code, now_ms=wall_clock_ms())


async def test_two_starts_at_once_start_one_game(players):
    host, guest = await players.new(), await players.new()
    created = await create_lobby(host, FAST)
    await join_lobby(guest, created.game_code)
    await host.send_raw('"StartCustomGame"')
    await host.send_raw('"StartCustomGame"')
    await host.expect(protocol.CustomGameStarting)
    after_first_start = []
    while not isinstance(message := await host.recv(), protocol.AccessDenied):
        after_first_start.append(message)
    assert "already started" in message.reason
    assert not any(isinstance(m, protocol.CustomGameStarting) for m in after_first_start)


async def test_seat_changes_do_not_rewrite_the_lobby_item(server, players, db, monkeypatch):
    """A lobby item holds no seats: joins and leaves that keep the host write nothing
    (the expiry is far off); a host change and the start do."""
    import snaketron.games

    host, guest, third = [await players.new() for _ in range(3)]
    created = await create_lobby(host, FAST)
    await db.flush()
    updates_before = db.metrics.requests["update_item"]
    transactions_before = db.metrics.requests["transact_write_items"]
    await join_lobby(guest, created.game_code)
    await join_lobby(third, created.game_code)
    await state_where(host, lambda state: len(state.players) == 3)
    await third.send(protocol.LeaveGame())
    left = await state_where(host, lambda state: len(state.players) == 2)  # the leave reached the lobby
    assert third.user_id not in left.players
    await server.tasks.wait(5)
    assert db.metrics.requests["update_item"] == updates_before, "seat changes wrote the lobby item"
    assert db.metrics.requests["transact_write_items"] == transactions_before

    # The host leaves: the lobby passes to the guest, and that is written.
    await host.send(protocol.LeaveGame())
    state = await state_where(guest, lambda state: len(state.players) == 1)
    assert state.host_user_id == guest.user_id
    await server.tasks.wait(5)
    assert db.metrics.requests["transact_write_items"] == transactions_before + 1  # the lobby and its code claim
    stored = await db.get_lobby(created.game_code, now_ms=state.start_ms or 0)
    assert stored.host_user_id == guest.user_id

    # Once the game is over and its linger is past, the code finds nothing here.
    monkeypatch.setattr(snaketron.games, "FINISHED_GAME_LINGER_S", 0.0)
    await join_lobby(host, created.game_code)
    hosted = server.lobbies.by_code[created.game_code]
    await guest.send(protocol.StartCustomGame())
    await events_until_complete(guest)
    assert hosted.finished
    # The host change landed, so the code is surely the lobby's: the start is two puts.
    await db.flush()
    assert db.metrics.requests["transact_write_items"] == transactions_before + 1
    claim = await db.get_game_code(created.game_code, now_ms=state.start_ms or 0)
    assert (claim["status"], claim["gameId"]) == ("started", created.game_id)
    forgotten = asyncio.Event()
    asyncio.get_running_loop().call_soon(lambda: asyncio.get_running_loop().call_soon(forgotten.set))
    await forgotten.wait()
    assert created.game_code not in server.lobbies.by_code
