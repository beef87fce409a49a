"""What `LobbyService` writes to DynamoDB, request by request: the start of a lobby
whose code is surely its own goes through the batch writer, anything less sure
through the conditional transaction. A service on the real endpoint, with a clock
the test moves; no WebSockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgspec
import pytest

from snaketron.config import Settings
from snaketron.db.dynamo import DynamoDatabase
from snaketron.db.errors import NotFound
from snaketron.engine import CustomGameSettings
from snaketron.games import Room, Rooms, wall_clock_ms
from snaketron.lobbies import LobbyService
from snaketron.persistence import GameRecorder
from snaketron.tasks import BackgroundTasks

DUEL = CustomGameSettings(arena_width=20, arena_height=12, tick_duration_ms=100, max_players=4, is_private=True)
SERVER_ID = 7


@dataclass
class MovableClock:
    offset_ms: int = 0

    def __call__(self) -> int:
        return wall_clock_ms() + self.offset_ms


@dataclass
class Lobbies:
    service: LobbyService
    rooms: Rooms
    tasks: BackgroundTasks
    clock: MovableClock
    db: DynamoDatabase
    ttl_ms: int

    def transactions(self) -> int:
        return self.db.metrics.requests["transact_write_items"]


@pytest.fixture
async def lobbies(db: DynamoDatabase, settings: Settings) -> AsyncIterator[Lobbies]:
    clock = MovableClock()
    tasks = BackgroundTasks()
    host = Rooms(GameRecorder(db), tasks, server_id=SERVER_ID, clock_ms=clock)
    service = LobbyService(host, db, settings, tasks, clock_ms=clock)
    yield Lobbies(service, host, tasks, clock, db, settings.lobby_ttl_seconds * 1000)
    for hosted in host.running_games():
        hosted.dispose()  # stop ticking; nothing here needs the game to play
    await tasks.wait(5)


async def settled(lobbies: Lobbies) -> None:
    """Every lobby write and every queued item durable."""
    await lobbies.tasks.wait(5)
    await lobbies.db.flush()


async def duel(lobbies: Lobbies) -> Room:
    hosted = await lobbies.service.create(11, "ann", DUEL)
    lobbies.service.join(hosted, 12, "bob")
    return hosted


async def test_a_fresh_lobby_starts_without_a_transaction(lobbies):
    transactions = lobbies.transactions()
    hosted = await duel(lobbies)
    assert lobbies.transactions() == transactions + 1  # the code claim: what makes it unique
    await settled(lobbies)
    lobbies.clock.offset_ms = 60_000  # a minute in the lobby
    lobbies.service.start(hosted, 11)
    await settled(lobbies)
    assert lobbies.transactions() == transactions + 1, "the start ran a transaction"

    now = lobbies.clock()
    stored = await lobbies.db.get_lobby(hosted.game_code, now_ms=now)
    assert (stored.state, stored.game_id, stored.host_user_id, stored.server_id) == (
        "started",
        hosted.game_id,
        11,
        SERVER_ID,
    )
    assert stored.settings == msgspec.to_builtins(DUEL)
    assert now - 5_000 < stored.expires_at_ms - lobbies.ttl_ms <= now  # pushed out at the start
    assert await lobbies.db.get_game_code(hosted.game_code, now_ms=now) == {
        "gameCode": hosted.game_code,
        "gameId": hosted.game_id,
        "isPrivate": True,
        "status": "started",
    }


async def test_a_lobby_near_its_expiry_starts_through_the_conditional_update(lobbies):
    hosted = await lobbies.service.create(11, "ann", DUEL)
    await settled(lobbies)
    transactions = lobbies.transactions()
    # Past half a TTL: the join writes (a transaction, still in flight at the start,
    # so it proves nothing yet), and the start must not trust the code to be ours.
    lobbies.clock.offset_ms = lobbies.ttl_ms * 6 // 10
    lobbies.service.join(hosted, 12, "bob")
    lobbies.service.start(hosted, 11)
    await settled(lobbies)
    assert lobbies.transactions() == transactions + 2
    now = lobbies.clock()
    stored = await lobbies.db.get_lobby(hosted.game_code, now_ms=now)
    assert stored.state == "started" and stored.expires_at_ms > now + lobbies.ttl_ms // 2
    assert (await lobbies.db.get_game_code(hosted.game_code, now_ms=now))["status"] == "started"


async def test_a_lobby_whose_write_failed_does_not_resurrect_its_code(lobbies):
    """A failed write leaves the stored lobby unknown: the start goes conditional, and
    a lobby freed behind the service's back (a sweeper) stays freed."""
    hosted = await duel(lobbies)
    lobbies.service.join(hosted, 13, "cat")
    await settled(lobbies)
    await lobbies.db.delete_lobby(hosted.game_code)
    lobbies.service.leave(hosted, 11)  # the host leaves: bob hosts, written... and NotFound
    await settled(lobbies)
    transactions = lobbies.transactions()
    lobbies.service.start(hosted, 12)
    await settled(lobbies)
    assert lobbies.transactions() == transactions + 1  # the conditional update, refused
    with pytest.raises(NotFound):
        await lobbies.db.get_lobby(hosted.game_code, now_ms=lobbies.clock())
    with pytest.raises(NotFound):
        await lobbies.db.get_game_code(hosted.game_code, now_ms=lobbies.clock())
