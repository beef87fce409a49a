"""The registry's view, the dead-server sweep and placement, in process against the real
endpoint, with a clock the test moves (no waiting for heartbeats to age)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from snaketron.cluster.placement import Placement
from snaketron.cluster.registry import ClusterRegistry
from snaketron.cluster.relay import RelayLink
from snaketron.db.codec import to_item
from snaketron.db.errors import NotFound
from snaketron.db.items import server_key
from snaketron.db.models import GameRecord, LobbyRecord, ServerRecord
from snaketron.protocol import decode_server_message

START_MS = 1_900_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        return self.now


def server(server_id: int, **fields: object) -> ServerRecord:
    values: dict = {
        "server_id": server_id,
        "region": "local",
        "ws_url": f"ws://127.0.0.1:{9000 + server_id}/ws",
        "api_url": f"http://127.0.0.1:{8000 + server_id}",
        "internal_url": f"ws://127.0.0.1:{9000 + server_id}/internal/relay",
        "max_game_capacity": 100,
        "last_heartbeat_ms": START_MS,
        "created_at_ms": START_MS,
    }
    values.update(fields)
    return ServerRecord(**values)


@pytest.fixture
async def registry(settings, db):
    clock = Clock()
    load = {"games": 0, "players": 0}
    found = ClusterRegistry(
        dataclasses.replace(settings, heartbeat_seconds=1.0),
        db,
        lambda: (load["games"], load["players"]),
        clock_ms=clock,
    )
    found.clock, found.load = clock, load  # the test's handles
    await found.register(server(1))
    yield found
    await found.stop()


async def test_view_holds_live_servers_and_sweeps_dead_ones_once(registry, db):
    clock = registry.clock
    await db.register_server(server(2, current_game_count=3))
    await db.register_server(server(3, status="draining"))
    await db.register_server(server(4))  # will stop heartbeating
    await db.register_server(server(5, region="elsewhere"))
    # Server 4 hosted a lobby and a started game; a finished one must stay as it is.
    for game_id, status, code in ((41, "waiting", "LOBBY041"), (42, "started", None), (43, "complete", None)):
        record = GameRecord(
            game_id=game_id, server_id=4, game_type="Solo", game_mode="custom", status=status, game_code=code
        )
        if code:
            await db.create_lobby(
                LobbyRecord(game_code=code, game_id=game_id, host_user_id=7, settings={}, server_id=4),
                is_private=False,
            )
        await db.save_game_nowait(record)
    await db.flush()

    await registry.refresh()
    assert sorted(s.server_id for s in registry.live_servers()) == [1, 2, 3, 4]
    assert registry.get(2).current_game_count == 3 and registry.get(3).status == "draining"

    # Three intervals later everyone but 4 has heartbeaten: 4 is dead and swept.
    clock.now += 3_500
    for alive in (2, 3):
        await db.heartbeat_server(alive, "local", game_count=0, player_count=0, now_ms=clock.now)
    await registry.beat()
    assert sorted(s.server_id for s in registry.live_servers()) == [1, 2, 3]
    assert registry.get(4) is None
    statuses = {g: (await db.get_game(g)).game.status for g in (41, 42, 43)}
    assert statuses == {41: "abandoned", 42: "abandoned", 43: "complete"}
    assert (await db.get_game(42)).game.ended_at_ms == clock.now
    with pytest.raises(NotFound):
        await db.get_lobby("LOBBY041", now_ms=clock.now)
    assert (await db.get_server(4)).status == "offline"
    before = dict(db.metrics.requests)

    # Offline now: the next beat is one heartbeat and one query, no sweep.
    clock.now += 1_000
    await registry.beat()
    spent = {op: n - before.get(op, 0) for op, n in db.metrics.requests.items() if n != before.get(op, 0)}
    assert spent == {"update_item": 1, "query": 1}

    assert [s.server_id for s in await registry.live_servers_of("elsewhere")] == []  # stale there too
    clock.now = START_MS + 1_000
    assert [s.server_id for s in await registry.live_servers_of("elsewhere")] == [5]


async def test_placement_picks_the_least_loaded_live_active_server(registry, db):
    clock = registry.clock
    placement = Placement(registry, lambda: (registry.load["games"], registry.load["players"]), clock_ms=clock)
    await db.register_server(server(2, current_game_count=1, current_player_count=1))
    await db.register_server(server(3, current_game_count=0, status="draining"))
    await db.register_server(server(4, current_game_count=0, max_game_capacity=0, internal_url=""))
    await db.register_server(server(5, current_game_count=5, max_game_capacity=5))  # full
    await registry.refresh()

    registry.load.update(games=0, players=0)
    assert placement.choose() is None, "ties and better go to this server"
    registry.load.update(games=2, players=2)
    assert placement.choose().server_id == 2, "draining, unreachable and full servers are skipped"
    assert placement.choose(here_accepts=False).server_id == 2

    # Games placed on 2 count there until its next heartbeat says so itself.
    clock.now += 10
    placement.placed(2)
    placement.placed(2)
    assert placement.choose() is None  # 2 now stands at 3 games
    await db.heartbeat_server(2, "local", game_count=3, player_count=3, now_ms=clock.now + 5)
    await registry.refresh()
    registry.load.update(games=4, players=4)
    assert placement.choose().server_id == 2  # 3 games, counted once


async def test_a_server_item_the_database_lost_is_written_again_at_the_next_heartbeat(registry, db):
    # As after the embedded endpoint restarted empty: the item is simply gone.
    await db.client.call("delete_item", TableName=db.tables.main, Key=to_item(server_key(1)))
    with pytest.raises(NotFound):
        await db.get_server(1)
    registry.clock.now += 1_000
    registry.load["games"] = 2
    await registry.beat()
    again = await db.get_server(1)
    assert (again.status, again.current_game_count, again.last_heartbeat_ms) == ("active", 2, registry.clock.now)
    assert 1 in {s.server_id for s in registry.live_servers()}


async def test_find_reads_a_server_the_view_lacks_once(registry, db):
    """A host that registered after the last refresh is found by one read of its item,
    shared by the requests asking at once; servers not live cost one read, then none."""
    clock = registry.clock
    await db.register_server(server(2))  # after the view was read: a server just started
    await db.register_server(server(3, last_heartbeat_ms=START_MS - 3_500))  # stopped heartbeating
    await db.register_server(server(4, status="offline"))
    await db.register_server(server(5, region="elsewhere"))
    assert registry.get(2) is None
    before = dict(db.metrics.requests)

    def reads() -> int:
        return db.metrics.requests.get("get_item", 0) - before.get("get_item", 0)

    found = await asyncio.gather(*(registry.find(2) for _ in range(5)))
    assert [f.server_id for f in found] == [2] * 5
    assert reads() == 1
    assert registry.get(2) is not None  # in the view until the next refresh says otherwise
    assert await registry.find(2) is found[0] and reads() == 1
    assert await registry.find(1) is registry.record and reads() == 1  # this server

    for gone in (3, 4, 5, 99):
        assert await registry.find(gone) is None
    assert reads() == 5
    clock.now += 1_000
    for gone in (3, 4, 5, 99):
        assert await registry.find(gone) is None
    assert reads() == 5, "a server found not live is not read again at once"
    assert {s.server_id for s in registry.live_servers()} == {1, 2}


def test_game_over_frame_follows_the_last_sequence_seen():
    class Session:
        user_id, username, outbox = 7, "seven", None

    link = RelayLink(Session(), server(2), secret="s", tasks=None, on_closed=lambda _: None, game_id=12)
    link._peek(
        b'{"GameEvent":{"game_id":12,"tick":40,"sequence":91,"user_id":null,"event":{"SnakeDied":{"snake_id":1}}}}'
    )
    assert link.entered and not link.complete
    over = decode_server_message(link.game_over_frame())
    assert (over.game_id, over.tick, over.sequence) == (12, 40, 92)
    assert over.event.StatusUpdated.status.Complete.winning_snake_id is None

    link._peek(
        b'{"GameEvent":{"game_id":12,"tick":41,"sequence":92,"user_id":null,'
        b'"event":{"StatusUpdated":{"status":{"Complete":{"winning_snake_id":0}}}}}}'
    )
    assert link.complete
    assert link._peek(b'{"ServerShutdown":{"reason":"bye","grace_period_seconds":3}}') is False
    assert link._peek(b'"Shutdown"') is False
    assert link._peek(b'{"AccessDenied":{"reason":"no"}}') is True
